"""Enrollment bookkeeping in PostgreSQL. Every method is idempotent: it runs as a local activity and
may be retried after a worker crash, so it upserts by natural keys and never double-counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from engine.db.session import autocommit
from engine.enrollments.admission import ERASED, admit
from engine.enrollments.contracts import (
    BeginInput,
    BeginResult,
    ExposureInput,
    FinishInput,
    OutcomeInput,
    ProfileInput,
    ProfileSnapshot,
    SplitWeightsInput,
    SplitWeightsResult,
    StepInput,
    StepsInput,
)
from engine.enrollments.repository import EnrollmentRepository
from engine.journeys.repository import JourneyRepository
from engine.outcomes.service import OutcomeService
from engine.profiles.repository import ProfileRepository
from engine.profiles.snapshot import read_snapshot, snapshot_if_recorded
from engine.splits.adaptive import current_weights


class BookkeepingActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], default_timezone: str) -> None:
        self._sessionmaker = sessionmaker
        self._default_timezone = default_timezone  # of the start node's profile read

    @activity.defn
    async def begin_enrollment(self, input: BeginInput) -> BeginResult:
        """Admission, for enrollments the enrolling transaction did not already record (then a no-op), and
        the start node's profile read when it asks for one."""
        # The usual case: admitted by the enrolling transaction; nothing to decide or lock. Asked together
        # with the start node's read, if it has one (one round trip).
        async with self._sessionmaker() as session:
            await autocommit(session)
            if input.read is None:
                if await EnrollmentRepository(session).recorded(input.enrollment_id):
                    return BeginResult(admitted=True, revision=input.revision)
            else:
                profile = await snapshot_if_recorded(
                    session, input.enrollment_id, input.read, self._default_timezone
                )
                if profile is not None:
                    return BeginResult(admitted=True, profile=profile, revision=input.revision)
        reason = await self._admit(input)
        if reason is not None:
            return BeginResult(admitted=False, reason=reason, revision=input.revision)
        async with self._sessionmaker() as session:
            await autocommit(session)
            return BeginResult(
                admitted=True, profile=await self._read(session, input.read), revision=input.revision
            )

    async def _read(self, session: AsyncSession, read: ProfileInput | None) -> ProfileSnapshot | None:
        return await read_snapshot(session, read, self._default_timezone) if read else None

    async def _admit(self, input: BeginInput) -> str | None:
        """Why the enrollment is refused, or None once it is recorded."""
        async with self._sessionmaker() as session, session.begin():
            repo = EnrollmentRepository(session)
            if not await ProfileRepository(session).lock_present(input.profile_id):
                return ERASED  # erased after this run was started by an entry that did not record it
            previous = await repo.lock_entry(input.journey_id, input.profile_id, input.correlation)
            if await repo.recorded(input.enrollment_id):
                return None  # a retry of this activity admitted it meanwhile
            journey = await JourneyRepository(session).get(input.journey_key)
            if journey is None or journey.status != "live":
                return f"journey is {journey.status if journey else 'deleted'}"
            return await admit(repo, input, previous)

    @activity.defn
    async def split_weights(self, input: SplitWeightsInput) -> SplitWeightsResult:
        """An adaptive split's weights now (read, or recomputed when its cadence is due)."""
        async with self._sessionmaker() as session, session.begin():
            weights = await current_weights(
                session,
                journey_id=input.journey_id,
                version=input.version,
                node_id=input.node_id,
                goal=input.goal,
                configured=input.configured,
                floor_percent=input.floor_percent,
                cadence=timedelta(seconds=input.cadence_seconds),
                min_exposures=input.min_exposures,
                now=input.now,
            )
        return SplitWeightsResult(weights=weights)

    @activity.defn
    async def record_step(self, input: StepInput) -> None:
        """One step at a time: what histories from before step batching (workflow patch) replay."""
        await self.record_steps(StepsInput(steps=[input]))

    @activity.defn
    async def record_steps(self, input: StepsInput) -> None:
        async with self._sessionmaker() as session:
            await autocommit(session)  # one statement, atomic on its own
            last = input.steps[-1]
            steps = [step.model_dump() for step in input.steps]
            await EnrollmentRepository(session).move_to(last.enrollment_id, last.node_id, steps)

    @activity.defn
    async def record_exposure(self, input: ExposureInput) -> None:
        values = input.model_dump(exclude={"goal", "goal_value"})
        async with self._sessionmaker() as session, session.begin():
            if input.goal is not None:
                values["pre_conversions"], values["pre_value"] = await OutcomeService(
                    session
                ).before_exposure(input.profile_id, input.goal, input.goal_value, input.exposed_at)
            await EnrollmentRepository(session).record_exposure(values)

    @activity.defn
    async def record_outcome(self, input: OutcomeInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await OutcomeService(session).credit_enrollment(
                input.enrollment_id,
                input.goal,
                input.value,
                timedelta(seconds=input.within_seconds),
                input.occurred_at,
                input.event_id,
            )

    @activity.defn
    async def finish_enrollment(self, input: FinishInput) -> None:
        async with self._sessionmaker() as session:
            await autocommit(session)  # one statement, atomic on its own
            await EnrollmentRepository(session).finish(
                input.enrollment_id,
                input.status,
                input.node,
                input.ended_at,
                [step.model_dump() for step in input.steps],
            )
