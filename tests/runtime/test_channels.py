"""Channels against real local stand-ins: SMTP (aiosmtpd) for email, an HTTP server for SMS, and the
in-app inbox through the API. Journeys run on the time-skipping server, with real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.delivery.channels.smtp import message_id
from engine.journeys.assignment import HOLDOUT_NODE, in_holdout
from engine.settings import Settings
from tests.runtime.harness import Harness
from tests.runtime.messaging_support import deliveries, harness_with, put_template
from tests.support.crm import CrmStandIn, crm_stand_in
from tests.support.smtp import SmtpStandIn, smtp_stand_in


def journey(key: str, channel: str, on_failure: str = "continue") -> str:
    return f"""
key: {key}
name: {key}
entry: {{event: go}}
start: note
nodes:
  note: {{type: send, channel: {channel}, template: offer, on_failure: {on_failure}, next: done}}
  done: {{type: exit}}
"""


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    with smtp_stand_in() as server:
        yield server


@pytest.fixture
def sms_provider() -> Iterator[CrmStandIn]:
    with crm_stand_in() as server:
        yield server


@pytest.fixture
async def wired(
    time_skipping: WorkflowEnvironment,
    sessionmaker: async_sessionmaker[AsyncSession],
    runtime_settings: Settings,
    crm: CrmStandIn,
    smtp: SmtpStandIn,
    sms_provider: CrmStandIn,
) -> AsyncIterator[Harness]:
    async with harness_with(
        time_skipping,
        sessionmaker,
        runtime_settings,
        crm.url,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        email_from="Shop <shop@example.com>",
        public_url="https://shop.example.com/j",
        sms_provider_url=f"{sms_provider.url}/sms",
        provider_token="sms-token",
        provider_timeout_seconds=0.5,
    ) as harness:
        await put_template(
            harness,
            "offer",
            "Hi {{ profile.traits.first_name }}, {{ entry.properties.total | money('EUR') }} waits."
            " Unsubscribe: {{ unsubscribe_url }}",
            subject="Your cart, {{ profile.traits.first_name }}",
        )
        await harness.profile("eve", {"first_name": "Eve", "email": "eve@example.com", "phone": "+15550100"})
        yield harness


async def test_email_goes_over_smtp_with_a_one_click_unsubscribe(wired: Harness, smtp: SmtpStandIn) -> None:
    await wired.publish_text("mail", journey("mail", "email"))
    started = await wired.enroll("mail", wired.event("eve", "go", total=1234.5))
    assert (await wired.closed_result(started.workflow_id)).status == "completed"

    [email] = smtp.messages
    assert email["To"] == "eve@example.com"
    assert email["From"] == "Shop <shop@example.com>"
    assert email["Subject"] == "Your cart, Eve"
    assert email["Message-ID"] == message_id(f"{started.enrollment_id}:note:1")
    link = email["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://shop.example.com/j/unsubscribe/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = email.get_content()
    assert "Hi Eve, €1,234.50 waits." in body
    assert link in body  # the same link the template put in the text
    [delivery] = await deliveries(wired, started.enrollment_id)
    assert (delivery.status, delivery.template_version) == ("sent", 1)


async def test_a_temporary_smtp_refusal_is_retried_with_the_same_message_id(
    wired: Harness, smtp: SmtpStandIn
) -> None:
    smtp.script = ["451 4.3.0 Greylisted, try again later"]
    await wired.publish_text("mail", journey("mail", "email"))
    started = await wired.enroll("mail", wired.event("eve", "go", total=5))
    assert (await wired.result(started.workflow_id)).status == "completed"
    assert len(smtp.attempts) == 2
    assert len(set(smtp.attempts)) == 1  # the retry is recognisably the same message
    assert len(smtp.messages) == 1


async def test_an_sms_retried_after_a_provider_timeout_carries_one_idempotency_key(
    wired: Harness, sms_provider: CrmStandIn
) -> None:
    sms_provider.script = [("sleep", 1.5)]  # the provider takes it, but answers after our timeout
    await wired.publish_text("text", journey("text", "sms"))
    started = await wired.enroll("text", wired.event("eve", "go", total=5))
    assert (await wired.result(started.workflow_id)).status == "completed"

    assert len(sms_provider.received) == 2  # the first attempt timed out, the retry was answered
    keys = {request.headers["Idempotency-Key"] for request in sms_provider.received}
    assert keys == {f"{started.enrollment_id}:note:1"}  # so the provider sends it once
    first = sms_provider.received[0]
    assert first.headers["Authorization"] == "Bearer sms-token"
    assert first.json()["to"] == "+15550100"
    assert first.json()["text"].startswith("Hi Eve, €5.00 waits.")
    [delivery] = await deliveries(wired, started.enrollment_id)
    assert delivery.status == "sent"


async def test_a_permanent_provider_refusal_is_recorded_and_on_failure_decides(
    wired: Harness, sms_provider: CrmStandIn
) -> None:
    sms_provider.script = [400, 400]
    await wired.publish_text("text-go-on", journey("text-go-on", "sms"))
    await wired.publish_text("text-or-stop", journey("text-or-stop", "sms", on_failure="exit"))

    goes_on = await wired.enroll("text-go-on", wired.event("eve", "go", total=5))
    assert (await wired.closed_result(goes_on.workflow_id)).status == "completed"
    stops = await wired.enroll("text-or-stop", wired.event("eve", "go", total=5))
    assert (await wired.closed_result(stops.workflow_id)).status == "failed"
    assert len(sms_provider.received) == 2  # one call each: a 400 is not retried
    for enrollment in (goes_on, stops):
        [delivery] = await deliveries(wired, enrollment.enrollment_id)
        assert delivery.status == "failed"
        assert delivery.reason is not None
        assert delivery.reason.startswith("sms provider: HTTP 400")


GOAL_ON_THE_PROFILE = """
key: text-goal
name: text-goal
entry: {event: go}
holdout: 50
goal:
  event: order_completed
  when: {field: profile.traits.first_name, op: eq, value: Eve}
  value: properties.revenue
start: note
nodes:
  note: {type: send, channel: sms, template: offer, next: done}
  done: {type: exit}
"""


async def test_a_goal_reached_while_the_last_message_is_retried_still_counts(
    wired: Harness, sms_provider: CrmStandIn
) -> None:
    """The send that ends an enrollment records the end; a goal event that reached the workflow while
    that send was retried is still credited (routing credits goals, but not those judged on the profile)."""
    assert not in_holdout("text-goal", "eve", 50)
    sms_provider.script = [("sleep", 1.5), ("sleep", 1.5)]  # two attempts time out: a window to buy in
    await wired.publish_text("text-goal", GOAL_ON_THE_PROFILE)
    started = await wired.enroll("text-goal", wired.event("eve", "go", total=5))
    for _ in range(500):  # until the first attempt reaches the provider (it answers 1.5 s later)
        if sms_provider.received:
            break
        await asyncio.sleep(0.02)
    await wired.signal(started.workflow_id, wired.event("eve", "order_completed", revenue=30))
    assert (await wired.closed_result(started.workflow_id)).status == "completed"
    assert len(sms_provider.received) == 3
    assert await wired.outcomes(started.enrollment_id) == [(HOLDOUT_NODE, "treatment", 30.0)]


async def test_a_profile_without_an_address_is_skipped(wired: Harness, smtp: SmtpStandIn) -> None:
    await wired.profile("no-mail", {"first_name": "Nobody"})
    await wired.publish_text("mail", journey("mail", "email"))
    started = await wired.enroll("mail", wired.event("no-mail", "go", total=5))
    assert (await wired.closed_result(started.workflow_id)).status == "completed"
    [delivery] = await deliveries(wired, started.enrollment_id)
    assert (delivery.status, delivery.reason) == ("skipped", "no email on the profile")
    assert smtp.attempts == []
