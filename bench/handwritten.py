"""The baselines of the journey benchmarks: the same steps written by hand as plain Temporal workflows
(no interpreter, no bookkeeping), with activities doing the same SQL a journey's would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from engine.signals.repository import SignalRepository


WAITING = "waiting"  # the template name of the rows that only record a wait


class Step(BaseModel):
    profile_id: str
    key: str
    template: str = "bench_reminder"


class HandWrittenActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def cart_value(self, profile_id: str) -> float:
        async with self._sessionmaker() as session:
            signals = await SignalRepository(session).compute(profile_id, ["cart_value"], datetime.now(UTC))
            return float(signals["cart_value"] or 0)

    @activity.defn
    async def deliver(self, step: Step) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO deliveries (idempotency_key, enrollment_id, profile_id, channel, template,"
                    " status, payload, sent_at) VALUES (:key, :key, :profile, 'outbox', :template, 'sent',"
                    " '{}'::jsonb, now()) ON CONFLICT (idempotency_key) DO NOTHING"
                ),
                {"key": step.key, "profile": step.profile_id, "template": step.template},
            )


@workflow.defn
class HandWrittenCart:
    """Branch on the live cart value, send one of two messages, done."""

    @workflow.run
    async def run(self, profile_id: str) -> str:
        value = await workflow.execute_local_activity_method(
            HandWrittenActivities.cart_value, profile_id, start_to_close_timeout=timedelta(seconds=10)
        )
        template = "bench_offer" if value > 100 else "bench_reminder"
        await workflow.execute_activity_method(
            HandWrittenActivities.deliver,
            Step(profile_id=profile_id, key=workflow.info().workflow_id, template=template),
            start_to_close_timeout=timedelta(seconds=30),
        )
        return "completed"


@workflow.defn
class HandWrittenWaiter:
    """Record that it waits (one row, as a journey records its wait step), wait up to 7 days for a
    signal, then run one activity: the reaction and capacity baselines."""

    def __init__(self) -> None:
        self.arrived = False

    @workflow.signal
    def event(self, name: str) -> None:
        self.arrived = True

    @workflow.run
    async def run(self, profile_id: str) -> str:
        key = workflow.info().workflow_id
        await workflow.execute_local_activity_method(
            HandWrittenActivities.deliver,
            Step(profile_id=profile_id, key=f"{key}:waiting", template=WAITING),
            start_to_close_timeout=timedelta(seconds=10),
        )
        try:
            await workflow.wait_condition(lambda: self.arrived, timeout=timedelta(days=7))
        except TimeoutError:
            return "timed out"
        await workflow.execute_activity_method(
            HandWrittenActivities.deliver,
            Step(profile_id=profile_id, key=key),
            start_to_close_timeout=timedelta(seconds=30),
        )
        return "completed"
