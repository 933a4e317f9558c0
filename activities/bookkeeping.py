"""Enrollment bookkeeping in PostgreSQL. Every method is idempotent: it runs as a local activity and
may be retried after a worker crash, so it upserts by natural keys and never double-counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from engine.db.models import Enrollment
from engine.enrollments.contracts import (
    BeginInput,
    BeginResult,
    ExposureInput,
    FinishInput,
    OutcomeInput,
    StepInput,
)
from engine.enrollments.repository import EnrollmentRepository
from engine.journeys.assignment import HOLDOUT_NODE
from engine.journeys.repository import JourneyRepository


class BookkeepingActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def begin_enrollment(self, input: BeginInput) -> BeginResult:
        """Admission: journey live, re-entry policy respected. Decided under an advisory lock."""
        async with self._sessionmaker() as session, session.begin():
            repo = EnrollmentRepository(session)
            if await repo.get(input.enrollment_id) is not None:
                return BeginResult(admitted=True)  # a retry of an admission that already committed
            journey = await JourneyRepository(session).get(input.journey_key)
            if journey is None or journey.status != "live":
                status = journey.status if journey else "deleted"
                return BeginResult(admitted=False, reason=f"journey is {status}")
            await repo.lock_entry(input.journey_id, input.profile_id, input.correlation)
            previous = await repo.previous(input.journey_id, input.profile_id, input.correlation)
            if previous is not None:
                if input.reentry_mode == "never":
                    return BeginResult(admitted=False, reason="re-entry: never (already enrolled once)")
                if input.reentry_mode == "after_exit" and previous.status == "active":
                    return BeginResult(admitted=False, reason="re-entry: after_exit (still enrolled)")
                cooldown = timedelta(seconds=input.reentry_cooldown_seconds or 0)
                if (
                    input.reentry_mode == "after_exit"
                    and previous.ended_at
                    and previous.ended_at + cooldown > input.now
                ):
                    return BeginResult(admitted=False, reason="re-entry: after_exit cooldown not over")
            await repo.add(
                Enrollment(
                    id=input.enrollment_id,
                    workflow_id=input.workflow_id,
                    journey_id=input.journey_id,
                    version=input.version,
                    profile_id=input.profile_id,
                    correlation=input.correlation,
                    holdout=input.holdout,
                    started_at=input.now,
                )
            )
            if input.holdout_percent > 0:
                # Journey-level holdout membership, for both groups: the denominators of the comparison.
                await repo.record_exposure(
                    {
                        "enrollment_id": input.enrollment_id,
                        "journey_id": input.journey_id,
                        "version": input.version,
                        "node_id": HOLDOUT_NODE,
                        "variant": "holdout" if input.holdout else "treatment",
                        "profile_id": input.profile_id,
                        "exposed_at": input.now,
                    }
                )
        return BeginResult(admitted=True)

    @activity.defn
    async def record_step(self, input: StepInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await EnrollmentRepository(session).record_step(
                input.enrollment_id,
                input.node_id,
                input.visit,
                input.node_type,
                input.decision,
                input.entered_at,
            )

    @activity.defn
    async def record_exposure(self, input: ExposureInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await EnrollmentRepository(session).record_exposure(input.model_dump())

    @activity.defn
    async def record_outcome(self, input: OutcomeInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await EnrollmentRepository(session).credit_outcomes(
                input.enrollment_id,
                input.goal,
                input.value,
                timedelta(seconds=input.within_seconds),
                input.occurred_at,
            )

    @activity.defn
    async def finish_enrollment(self, input: FinishInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await EnrollmentRepository(session).finish(
                input.enrollment_id, input.status, input.node, input.ended_at
            )
