"""Long enrollments continue-as-new when Temporal suggests it, carrying their state. The time-skipping
server never suggests it, so this runs on the dev server (configured to suggest after 40 events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from engine.settings import Settings
from tests.runtime.conftest import running_harness
from tests.runtime.harness import EnrollmentStep, Harness
from tests.support.crm import CrmStandIn

LOOP = """
key: ticker
name: Ticker
entry: {event: start}
exit_when: [{event: stop}]
start: tick
nodes:
  tick: {type: wait_for_event, event: tick, timeout: 1h, on_event: tick, on_timeout: done}
  done: {type: exit}
"""


@pytest.fixture
async def dev_harness(
    temporal_dev: WorkflowEnvironment,
    sessionmaker: async_sessionmaker[AsyncSession],
    runtime_settings: Settings,
    crm: CrmStandIn,
) -> AsyncIterator[Harness]:
    async with running_harness(temporal_dev, sessionmaker, runtime_settings, crm.url) as harness:
        yield harness


async def test_a_long_enrollment_continues_as_new_with_its_state(dev_harness: Harness) -> None:
    harness = dev_harness
    await harness.publish_text("ticker", LOOP)
    started = await harness.enroll("ticker", harness.event("long", "start"))
    first_run = (await harness.handle(started.workflow_id).describe()).run_id
    ticks = [harness.event("long", "tick", message_id=f"tick-{n}") for n in range(12)]
    for tick in ticks:
        await harness.at_node(started.workflow_id, "tick")
        await harness.signal(started.workflow_id, tick)
    view = await harness.at_node(started.workflow_id, "tick")
    assert view.path.count("tick") == 13  # every tick counted once, across runs
    assert view.enrollment_id == started.enrollment_id

    current_run = (await harness.handle(started.workflow_id).describe()).run_id
    assert current_run != first_run
    first_history = await harness.client.get_workflow_handle(
        started.workflow_id, run_id=first_run
    ).fetch_history()
    assert first_history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

    # The de-duplication memory crossed over too: an old event id, redelivered, changes nothing
    # (signals are processed in order, so the fresh tick after it shows whether it counted).
    await harness.signal(started.workflow_id, ticks[0])
    await harness.signal(started.workflow_id, harness.event("long", "tick", message_id="tick-fresh"))
    # Stop only once the fresh tick has been taken, so the last visit cannot race the exit.
    for _ in range(200):
        view = await harness.at_node(started.workflow_id, "tick")
        if view.path.count("tick") >= 14:
            break
        await asyncio.sleep(0.05)
    assert view.path.count("tick") == 14
    await harness.signal(started.workflow_id, harness.event("long", "stop"))
    result = await harness.result(started.workflow_id)
    assert result.status == "exited:criteria"
    steps = {step.visit: step for step in (await harness.detail(started.enrollment_id)).steps}
    # Visit 13 was ended by the fresh tick: had the redelivered one counted, it would have ended it.
    assert steps[13].decision == {"outcome": "event", "event_id": "tick-fresh"}
    assert max(steps) == 14
    assert await harness.count(EnrollmentStep, enrollment_id=started.enrollment_id) == 14
