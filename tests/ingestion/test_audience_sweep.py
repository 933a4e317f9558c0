"""Audience conditions that become true with time alone are found by the scheduled sweep (dev server:
the time-skipping server has no schedules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from engine.settings import Settings
from runtime.schedules import MODEL_SCHEDULE_ID, SCHEDULE_ID, ensure_schedule
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually

LAPSED = """
key: lapsed
name: Lapsed customers
entry:
  audience: {signal: days_since_last_order, op: gte, value: 60}
start: done
nodes:
  done: {type: exit}
"""


async def test_the_sweep_enrolls_a_customer_who_went_quiet(
    stack: Stack, temporal_dev: WorkflowEnvironment, settings: Settings
) -> None:
    published = await stack.api.post(
        "/api/journeys/lapsed/publish", content=LAPSED, headers={**ADMIN, "Content-Type": "application/yaml"}
    )
    assert published.status_code == 201
    ninety_days_ago = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    order = {"userId": "quiet", "event": "order_completed", "timestamp": ninety_days_ago}
    await stack.api.post("/v1/track", json=order, headers=WRITE)
    await eventually(stack.drained)

    async def churn_enrollments() -> list[dict[str, Any]]:
        return (await stack.api.get("/api/journeys/lapsed/enrollments", headers=ADMIN)).json()  # type: ignore[no-any-return]

    assert await churn_enrollments() == []  # when the order happened, nothing was wrong

    await ensure_schedule(temporal_dev.client, settings)
    await ensure_schedule(temporal_dev.client, settings)  # idempotent: every worker calls it at start
    handle = temporal_dev.client.get_schedule_handle(SCHEDULE_ID)
    description = await handle.describe()
    assert description.schedule.spec.intervals[0].every == timedelta(seconds=settings.audience_sweep_seconds)

    await handle.trigger()
    [entered] = await eventually(churn_enrollments)
    assert entered["profile_id"] == "quiet"

    # The schedule skips a sweep that would overlap a running one: let the first finish.
    await eventually(lambda: _sweeps_finished(temporal_dev, 1))
    await handle.trigger()  # a second sweep finds her already enrolled
    await eventually(lambda: _sweeps_finished(temporal_dev, 2))
    assert len(await churn_enrollments()) == 1
    await handle.delete()
    await temporal_dev.client.get_schedule_handle(MODEL_SCHEDULE_ID).delete()


async def _sweeps_finished(env: WorkflowEnvironment, count: int) -> bool:
    finished = [
        w
        async for w in env.client.list_workflows(
            "WorkflowType = 'AudienceSweepWorkflow' AND ExecutionStatus = 'Completed'"
        )
    ]
    return len(finished) >= count
