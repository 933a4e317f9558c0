"""A person as a branch sees them: traits, timezone and the live signals it asks for, as of a given time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.enrollments.contracts import ProfileInput, ProfileSnapshot
from engine.profiles.repository import ProfileRepository
from engine.profiles.zone import profile_zone
from engine.signals.repository import SignalRepository


async def read_snapshot(session: AsyncSession, input: ProfileInput, default_timezone: str) -> ProfileSnapshot:
    """An enrollment begun under an id since merged into another profile reads the survivor."""
    profile = await ProfileRepository(session).get_current(input.profile_id)
    profile_id = profile.id if profile else input.profile_id
    signals = await SignalRepository(session).compute(profile_id, input.signals, input.as_of)
    return ProfileSnapshot(
        profile_id=input.profile_id,
        traits=dict(profile.traits) if profile else {},
        signals=signals,
        timezone=str(profile_zone(profile, default_timezone).key),
    )
