"""A person as a branch sees them: traits, timezone and the live signals it asks for, as of a given time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.enrollments.contracts import ProfileInput, ProfileSnapshot
from engine.profiles.zone import zone_of
from engine.signals.repository import PersonRead, SignalRepository


async def read_snapshot(session: AsyncSession, input: ProfileInput, default_timezone: str) -> ProfileSnapshot:
    """An enrollment begun under an id since merged into another profile reads the survivor."""
    read = await SignalRepository(session).read_person(input.profile_id, input.signals, input.as_of)
    return _snapshot(input, read, default_timezone)


async def snapshot_if_recorded(
    session: AsyncSession, enrollment_id: str, input: ProfileInput, default_timezone: str
) -> ProfileSnapshot | None:
    """The snapshot, if the enrollment has its row (None: it has none yet), in the same round trip: what
    begin_enrollment asks for a start node that branches on the profile."""
    read = await SignalRepository(session).read_person(
        input.profile_id, input.signals, input.as_of, enrollment_id
    )
    return _snapshot(input, read, default_timezone) if read.recorded else None


def _snapshot(input: ProfileInput, read: PersonRead, default_timezone: str) -> ProfileSnapshot:
    return ProfileSnapshot(
        profile_id=input.profile_id,
        traits=dict(read.traits),
        signals=read.values,
        timezone=str(zone_of(read.timezone, read.traits, default_timezone).key),
    )
