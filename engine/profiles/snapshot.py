"""A person as a branch sees them: traits, timezone and the live signals it asks for, as of a given time."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from engine.enrollments.contracts import ProfileInput, ProfileSnapshot
from engine.predictions import live
from engine.predictions.scoring import PREDICTIVE_SIGNALS
from engine.profiles.zone import zone_of
from engine.signals.repository import PersonRead, SignalRepository


async def read_snapshot(
    session: AsyncSession, input: ProfileInput, default_timezone: str, explain: bool = True
) -> ProfileSnapshot:
    """An enrollment begun under an id since merged into another profile reads the survivor. Without
    `explain`, predictive signals come without their explanations (what a decision records)."""
    read = await SignalRepository(session).read_person(input.profile_id, input.signals, input.as_of)
    return await _snapshot(session, input, read, default_timezone, explain)


async def snapshot_if_recorded(
    session: AsyncSession, enrollment_id: str, input: ProfileInput, default_timezone: str
) -> ProfileSnapshot | None:
    """The snapshot, if the enrollment has its row (None: it has none yet), in the same round trip: what
    begin_enrollment asks for a start node that branches on the profile."""
    read = await SignalRepository(session).read_person(
        input.profile_id, input.signals, input.as_of, enrollment_id
    )
    return await _snapshot(session, input, read, default_timezone) if read.recorded else None


async def _snapshot(
    session: AsyncSession, input: ProfileInput, read: PersonRead, default_timezone: str, explain: bool = True
) -> ProfileSnapshot:
    signals: dict[str, Any] = dict(read.values)
    explanations: dict[str, Any] = {}
    if read.prediction is not None:
        wanted = [name for name in input.signals if name in PREDICTIVE_SIGNALS]
        scored, explanations = await live.predictive(
            session, read.prediction.model_key, read.prediction.features, input.as_of, wanted, explain=explain
        )
        signals |= scored
    return ProfileSnapshot(
        profile_id=input.profile_id,
        traits=dict(read.traits),
        signals=signals,
        timezone=str(zone_of(read.timezone, read.traits, default_timezone).key),
        explanations=explanations,
        segments=read.segments,
    )
