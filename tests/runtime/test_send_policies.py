"""Send-time policies on the time-skipping server with real PostgreSQL: quiet hours defer, frequency
caps skip across journeys, consent skips and the journey goes on, a journey's rate limit spaces sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.ingestion.schemas import SegmentMessage
from engine.ingestion.service import IngestionService
from engine.settings import Settings
from tests.runtime.harness import Harness
from tests.runtime.messaging_support import deliveries, harness_with, put_template
from tests.support.crm import CrmStandIn

NEW_YORK = ZoneInfo("America/New_York")

LATE_NOTE = """
key: late-note
name: Late note
entry: {event: signed_up}
quiet_hours: "21:00-08:00"
start: late
nodes:
  late: {type: wait, until_time: "23:00", next: note}
  note: {type: send, channel: email, template: hello, next: done}
  done: {type: exit}
"""


def one_email(key: str, *, transactional: bool = False, extra: str = "") -> str:
    flag = str(transactional).lower()
    return f"""
key: {key}
name: {key}
entry: {{event: go_{key.replace("-", "_")}}}
{extra}
start: note
nodes:
  note: {{type: send, channel: email, template: hello, transactional: {flag}, next: after}}
  after: {{type: update_profile, set: {{reached_after_{key.replace("-", "_")}: true}}, next: done}}
  done: {{type: exit}}
"""


@pytest.fixture
async def capped(
    time_skipping: WorkflowEnvironment,
    sessionmaker: async_sessionmaker[AsyncSession],
    runtime_settings: Settings,
    crm: CrmStandIn,
) -> AsyncIterator[Harness]:
    async with harness_with(
        time_skipping, sessionmaker, runtime_settings, crm.url, frequency_caps={"email": "1/1d"}
    ) as harness:
        await put_template(harness, "hello", "Hello {{ profile.traits.first_name }}", subject="Hi")
        yield harness


async def person(harness: Harness, pid: str, **traits: object) -> None:
    await harness.profile(pid, {"first_name": "Ann", "email": f"{pid}@example.com", **traits})


async def test_a_message_due_in_quiet_hours_goes_out_when_they_end(harness: Harness) -> None:
    await put_template(harness, "hello", "Hello {{ profile.traits.first_name }}", subject="Hi")
    await harness.publish_text("late-note", LATE_NOTE)
    await harness.profile(
        "owl", {"first_name": "Ann", "email": "owl@example.com"}, timezone="America/New_York"
    )
    started = await harness.enroll("late-note", harness.event("owl", "signed_up"))
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"

    [delivery] = await deliveries(harness, started.enrollment_id)
    assert delivery.status == "sent"
    assert delivery.scheduled_at is not None
    sent_local = delivery.scheduled_at.astimezone(NEW_YORK)
    assert (sent_local.hour, sent_local.minute) == (8, 0)

    steps = {step.node_id: step for step in (await harness.detail(started.enrollment_id)).steps}
    due_local = steps["late"].decision["until"]  # type: ignore[index]
    due = sent_local.fromisoformat(due_local).astimezone(NEW_YORK)
    assert (due.hour, due.minute) == (23, 0)
    assert sent_local.date() == due.date() + timedelta(days=1)  # the next morning, not dropped
    [held] = steps["note"].decision["held"]  # type: ignore[index]
    assert held["reason"] == "quiet hours 21:00-08:00 (America/New_York)"


async def test_a_second_journeys_message_inside_the_cap_window_is_skipped_and_says_why(
    capped: Harness,
) -> None:
    harness = capped
    await person(harness, "capped")
    await harness.publish_text("first-mail", one_email("first-mail"))
    await harness.publish_text("second-mail", one_email("second-mail"))
    await harness.publish_text("receipt", one_email("receipt", transactional=True))

    await harness.publish_text("third-mail", one_email("third-mail"))

    # No timers here: wait in real time, so the test server's clock stays inside the cap window.
    first = await harness.enroll("first-mail", harness.event("capped", "go_first_mail"))
    assert (await harness.closed_result(first.workflow_id)).status == "completed"
    second = await harness.enroll("second-mail", harness.event("capped", "go_second_mail"))
    assert (await harness.closed_result(second.workflow_id)).status == "completed"
    receipt = await harness.enroll("receipt", harness.event("capped", "go_receipt"))
    assert (await harness.closed_result(receipt.workflow_id)).status == "completed"

    [sent] = await deliveries(harness, first.enrollment_id)
    [skipped] = await deliveries(harness, second.enrollment_id)
    [transactional] = await deliveries(harness, receipt.enrollment_id)
    assert sent.status == "sent"
    assert (skipped.status, skipped.reason) == (
        "skipped",
        "frequency cap: 1 email per 1d across journeys reached",
    )
    assert transactional.status == "sent"  # receipts are not marketing: the cap does not hold them
    traits = await harness.traits("capped")
    assert traits["reached_after_second_mail"] is True  # the skipped journey went on

    # A day later the window has rolled on and the next journey's message goes.
    await harness.skip(timedelta(days=1, minutes=1))
    third = await harness.enroll("third-mail", harness.event("capped", "go_third_mail"))
    assert (await harness.closed_result(third.workflow_id)).status == "completed"
    [later] = await deliveries(harness, third.enrollment_id)
    assert later.status == "sent"


async def test_an_unsubscribed_profile_gets_no_email_and_the_enrollment_goes_on(harness: Harness) -> None:
    await put_template(harness, "hello", "Hello {{ profile.traits.first_name }}", subject="Hi")
    await harness.publish_text("newsletter", one_email("newsletter"))
    await person(harness, "quiet-one")
    now = await harness.env.get_current_time()
    async with harness.sessionmaker() as session, session.begin():
        # The app reports the unsubscribe the Segment way: a track event.
        message = SegmentMessage.model_validate(
            {
                "type": "track",
                "userId": "quiet-one",
                "event": "Unsubscribed",
                "properties": {"channel": "email"},
            }
        )
        await IngestionService(session).ingest([message], now)
    started = await harness.enroll("newsletter", harness.event("quiet-one", "go_newsletter"))
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    assert result.path == ["note", "after", "done"]
    [delivery] = await deliveries(harness, started.enrollment_id)
    assert (delivery.status, delivery.reason, delivery.payload) == ("skipped", "unsubscribed from email", {})
    assert (await harness.traits("quiet-one"))["reached_after_newsletter"] is True


async def test_a_journeys_rate_limit_spaces_its_sends(harness: Harness) -> None:
    await put_template(harness, "hello", "Hello {{ profile.traits.first_name }}", subject="Hi")
    await harness.publish_text("drip", one_email("drip", extra="rate_limit: {max: 1, per: 1h}"))
    for pid in ("rate-a", "rate-b"):
        await person(harness, pid)
    first = await harness.enroll("drip", harness.event("rate-a", "go_drip"))
    assert (await harness.closed_result(first.workflow_id)).status == "completed"
    second = await harness.enroll("drip", harness.event("rate-b", "go_drip"))
    assert (await harness.result(second.workflow_id)).status == "completed"

    [a] = await deliveries(harness, first.enrollment_id)
    [b] = await deliveries(harness, second.enrollment_id)
    assert a.status == b.status == "sent"
    assert a.scheduled_at is not None
    assert b.scheduled_at is not None
    assert b.scheduled_at - a.scheduled_at >= timedelta(hours=1)  # deferred, not dropped
    assert b.scheduled_at - a.scheduled_at < timedelta(hours=1, minutes=1)
