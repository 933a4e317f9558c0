"""Run by a Temporal schedule (every JOURNEYS_AUDIENCE_SWEEP_SECONDS): one sweep activity, heartbeating."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.audience import AudienceActivities, SweepInput, SweepResult


@workflow.defn
class AudienceSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepResult:
        return await workflow.execute_activity_method(
            AudienceActivities.sweep_audiences,
            SweepInput(now=workflow.now()),
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
