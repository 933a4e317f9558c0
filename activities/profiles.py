"""Reads of the customer's live profile, and profile updates from journeys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from engine.db.session import autocommit
from engine.durations import parse_duration
from engine.enrollments.contracts import (
    ProfileInput,
    ProfileSnapshot,
    UpdateProfileInput,
    WaitUntilInput,
    WaitUntilResult,
)
from engine.journeys.evaluate import as_time
from engine.profiles.repository import ProfileRepository
from engine.profiles.snapshot import read_snapshot
from engine.profiles.zone import next_time_of_day, profile_zone


class ProfileActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], default_timezone: str) -> None:
        self._sessionmaker = sessionmaker
        self._default_timezone = default_timezone

    @activity.defn
    async def read_profile(self, input: ProfileInput) -> ProfileSnapshot:
        """Traits and the requested live signals, as of the workflow's time (recorded in history)."""
        async with self._sessionmaker() as session:
            await autocommit(session)
            return await read_snapshot(session, input, self._default_timezone)

    @activity.defn
    async def resolve_wait_until(self, input: WaitUntilInput) -> WaitUntilResult:
        async with self._sessionmaker() as session:
            await autocommit(session)
            profile = await ProfileRepository(session).get_current(input.profile_id)
        zone = profile_zone(profile, self._default_timezone)
        if input.until_time is not None:
            wake_at = next_time_of_day(input.now, input.until_time, zone)
            return WaitUntilResult(wake_at=wake_at, detail=f"until {input.until_time} {zone.key}")
        value = (profile.traits if profile else {}).get(input.until_trait or "")
        moment = as_time(value)
        if moment is None:
            return WaitUntilResult(
                wake_at=input.now, detail=f"trait {input.until_trait!r} holds no date: not waiting"
            )
        if moment.tzinfo is None:  # a plain date or local time: the customer's midnight / wall clock
            moment = moment.replace(tzinfo=zone)
        if input.offset:
            shift = parse_duration(input.offset.removeprefix("-"))
            moment = moment - shift if input.offset.startswith("-") else moment + shift
        return WaitUntilResult(
            wake_at=max(moment, input.now), detail=f"until trait {input.until_trait} ({moment.isoformat()})"
        )

    @activity.defn
    async def update_profile(self, input: UpdateProfileInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            repo = ProfileRepository(session)
            await repo.change_traits(await repo.current_id(input.profile_id), input.set, input.unset)
