"""An enrollment whose last act is a send ends with it: the send activity records the end (contracts.Closing)
instead of a finish_enrollment local activity after it, and a retry of that send changes nothing."""

from __future__ import annotations

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

from activities.messaging import MessagingActivities
from engine.enrollments.contracts import SendInput
from tests.runtime.harness import Delivery, Harness

BRANCH_SEND_EXIT = """
key: last-send
name: Last send
entry: {event: cart_updated, reentry: {mode: always}}
start: check
nodes:
  check:
    type: branch
    cases: [{when: {field: event.properties.total, op: gt, value: 100}, next: offer}]
    default: remind
  offer: {type: send, channel: in_app, template: cart_discount, next: done}
  remind: {type: send, channel: in_app, template: cart_reminder, next: done}
  done: {type: exit}
"""


async def sent_input(harness: Harness, workflow_id: str) -> SendInput:
    """The send activity's input as Temporal recorded it: what a retry of the activity is given."""
    history = await harness.handle(workflow_id).fetch_history()
    [scheduled] = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    [send] = pydantic_data_converter.payload_converter.from_payloads(
        list(scheduled.input.payloads), [SendInput]
    )
    assert isinstance(send, SendInput)
    return send


async def test_a_send_followed_by_the_exit_records_the_end(harness: Harness) -> None:
    await harness.publish_text("last-send", BRANCH_SEND_EXIT)
    await harness.profile("lena", {"first_name": "Lena"})
    started = await harness.enroll("last-send", harness.event("lena", "cart_updated", cart_id="c1", total=40))
    result = await harness.result(started.workflow_id)
    assert (result.status, result.path) == ("completed", ["check", "remind", "done"])
    # No local activity after the send: it recorded the steps and the end itself.
    assert await harness.local_activities(started.workflow_id) == ["begin_enrollment"]
    detail = await harness.detail(started.enrollment_id)
    assert (detail.status, detail.current_node) == ("completed", "done")
    [delivery] = detail.deliveries
    assert (delivery.status, delivery.template) == ("sent", "cart_reminder")
    assert [(s.node_id, s.visit, s.node_type, s.decision) for s in detail.steps] == [
        ("check", 1, "branch", {"case": "default", "next": "remind"}),
        ("remind", 1, "send", {"status": "sent", "delivery_id": delivery.id, "detail": None}),
        ("done", 1, "exit", {}),
    ]
    times = [step.entered_at for step in detail.steps]
    assert times == sorted(times)
    assert times[-1] == detail.ended_at
    await harness.keep_history(started.workflow_id, "last-send")


async def test_a_retried_last_send_sends_nothing_and_ends_nothing_again(harness: Harness) -> None:
    """The send's completion lost after it committed: Temporal runs the same input again."""
    await harness.publish_text("last-send", BRANCH_SEND_EXIT)
    await harness.profile("rhea")
    started = await harness.enroll(
        "last-send", harness.event("rhea", "cart_updated", cart_id="c2", total=140)
    )
    assert (await harness.result(started.workflow_id)).path == ["check", "offer", "done"]
    before = await harness.detail(started.enrollment_id)
    send = await sent_input(harness, started.workflow_id)
    assert send.closing is not None
    assert send.closing.exit_node == "done"
    async with httpx.AsyncClient() as http:
        activities = MessagingActivities(harness.sessionmaker, http, harness.settings)
        again = await ActivityEnvironment().run(activities.send_message, send)
    assert (again.status, again.delivery_id) == ("sent", before.deliveries[0].id)
    after = await harness.detail(started.enrollment_id)
    assert (after.status, after.ended_at, after.steps) == (before.status, before.ended_at, before.steps)
    assert await harness.count(Delivery, enrollment_id=started.enrollment_id) == 1
