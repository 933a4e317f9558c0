"""A round trip through every part of the stack: client → Temporal → worker → activity → PostgreSQL.

`journeys check` runs it; operators use it after a deploy to prove the worker, its task queue and its
database are wired together (`/ready` only proves the API can reach each service).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.stack_check import DatabaseProbe, StackCheckActivities


@workflow.defn
class StackCheckWorkflow:
    @workflow.run
    async def run(self) -> DatabaseProbe:
        return await workflow.execute_activity_method(
            StackCheckActivities.probe_database,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
