"""The baselines of the journey benchmarks: the same steps written by hand as plain Temporal workflows
(no interpreter, no bookkeeping), with activities doing the same SQL a journey's would."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.handwritten_activities import WAITING, HandWrittenActivities, Step


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
