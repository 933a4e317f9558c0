"""Deliveries are idempotent by (enrollment, node, visit): activities run directly against the real
database and a real local HTTP stand-in, and are retried the way Temporal would retry them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.messaging import MessagingActivities
from engine.enrollments.contracts import EventEnvelope, SendInput, WebhookInput
from engine.settings import Settings
from engine.templates.service import TemplateService, TemplateUpdate
from tests.runtime.harness import Delivery, Harness
from tests.support.crm import CrmStandIn

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ENTRY = EventEnvelope(
    id="e1", name="cart_updated", profile_id="ida", properties={"cart_id": "c", "total": 12}, timestamp=NOW
)


def send_input(template: str = "cart_reminder") -> SendInput:
    return SendInput(
        enrollment_id="enr-1",
        journey_key="abandoned-cart",
        node_id="reminder",
        visit=1,
        profile_id="ida",
        channel="email",
        template=template,
        variant={},
        entry=ENTRY,
        event=None,
        as_of=NOW,
    )


def webhook_input(url: str) -> WebhookInput:
    return WebhookInput(
        enrollment_id="enr-1",
        journey_key="abandoned-cart",
        node_id="notify_crm",
        visit=1,
        profile_id="ida",
        method="POST",
        url=f"{url}/hooks",
        headers={"X-Source": "journeys"},
        body={"cart": "{{ entry.properties.cart_id }}"},
        variant={},
        entry=ENTRY,
        event=None,
        as_of=NOW,
    )


@pytest.fixture
async def messaging(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession], runtime_settings: Settings
) -> MessagingActivities:
    await harness.publish("abandoned-cart")  # loads the example templates
    await harness.profile("ida", {"first_name": "Ida", "email": "ida@example.com"})
    return MessagingActivities(sessionmaker, httpx.AsyncClient(), runtime_settings)


async def test_a_retried_send_delivers_once(messaging: MessagingActivities, harness: Harness) -> None:
    env = ActivityEnvironment()
    first = await env.run(messaging.send_message, send_input())
    retry = await env.run(messaging.send_message, send_input())
    assert first.status == "sent"
    assert retry.delivery_id == first.delivery_id
    assert retry.detail == "already delivered"
    assert await harness.count(Delivery) == 1


async def test_a_stored_message_is_sent_by_its_claim_and_a_retry_finds_it(
    messaging: MessagingActivities, harness: Harness
) -> None:
    env = ActivityEnvironment()
    in_app = send_input().model_copy(update={"channel": "in_app"})
    first = await env.run(messaging.send_message, in_app)
    retry = await env.run(messaging.send_message, in_app)
    assert (first.status, retry.status, retry.detail) == ("sent", "sent", "already delivered")
    assert retry.delivery_id == first.delivery_id
    async with harness.sessionmaker() as session:
        [row] = (await session.execute(select(Delivery))).scalars().all()
    assert (row.status, row.channel) == ("sent", "in_app")
    assert row.payload["body"] == "Your cart (c) is waiting: 12 USD."  # the row is the message
    assert row.sent_at is not None


async def test_a_retry_after_the_template_broke_answers_already_delivered(
    messaging: MessagingActivities, harness: Harness
) -> None:
    """The completion of the first attempt was lost, and meanwhile someone broke the template: the retry
    must not report the sent message as failed."""
    env = ActivityEnvironment()
    first = await env.run(messaging.send_message, send_input())
    async with harness.sessionmaker() as session, session.begin():
        await TemplateService(session).put(
            "cart_reminder", TemplateUpdate(body="{{ entry.properties.nope }}")
        )
    retry = await env.run(messaging.send_message, send_input())
    assert (retry.status, retry.delivery_id, retry.detail) == ("sent", first.delivery_id, "already delivered")
    with pytest.raises(ApplicationError, match="has no attribute 'nope'"):  # a new step would fail
        await env.run(messaging.send_message, send_input().model_copy(update={"visit": 2}))


async def test_a_missing_template_fails_for_good(messaging: MessagingActivities, harness: Harness) -> None:
    with pytest.raises(ApplicationError, match="template 'nope' does not exist") as failure:
        await ActivityEnvironment().run(messaging.send_message, send_input("nope"))
    assert failure.value.non_retryable
    assert await harness.count(Delivery) == 0


async def test_webhook_retried_after_a_provider_error_delivers_once(
    messaging: MessagingActivities, harness: Harness, crm: CrmStandIn
) -> None:
    crm.script = [503]
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError, match="HTTP 503") as failure:
        await env.run(messaging.call_webhook, webhook_input(crm.url))
    assert not failure.value.non_retryable  # Temporal retries it with backoff
    result = await env.run(messaging.call_webhook, webhook_input(crm.url))
    assert result.status == "sent"
    again = await env.run(messaging.call_webhook, webhook_input(crm.url))
    assert again.detail == "already delivered"
    # Two attempts reached the provider, both with the same idempotency key, so it can drop the repeat.
    assert [r.headers["Idempotency-Key"] for r in crm.received] == ["enr-1:notify_crm:1"] * 2
    assert crm.received[0].json() == {"cart": "c"}
    assert crm.received[0].headers["X-Source"] == "journeys"
    assert await harness.count(Delivery, status="sent") == 1


async def test_webhook_rejected_by_the_provider_is_a_permanent_failure(
    messaging: MessagingActivities, harness: Harness, crm: CrmStandIn
) -> None:
    crm.script = [422]
    with pytest.raises(ApplicationError, match="HTTP 422") as failure:
        await ActivityEnvironment().run(messaging.call_webhook, webhook_input(crm.url))
    assert failure.value.non_retryable
    assert await harness.count(Delivery, status="failed") == 1


BROKEN_SEND = """
key: broken-send
name: Broken send
entry: {event: start}
start: greet
nodes:
  greet: {type: send, template: needs_coupon, next: done}
  done: {type: exit}
"""


async def test_a_failed_send_is_recorded_and_the_journey_goes_on(harness: Harness) -> None:
    """The template is valid, but this customer's entry event lacks the field it needs."""
    async with harness.sessionmaker() as session, session.begin():
        await TemplateService(session).put(
            "needs_coupon", TemplateUpdate(body="Code: {{ entry.properties.coupon }}")
        )
    await harness.publish_text("broken-send", BROKEN_SEND)
    started = await harness.enroll("broken-send", harness.event("bea", "start"))
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    step = next(s for s in (await harness.detail(started.enrollment_id)).steps if s.node_id == "greet")
    assert step.decision == {
        "status": "failed",
        "detail": "render failed: template 'needs_coupon': 'dict object' has no attribute 'coupon'",
    }
    # Nothing was sent, and the failure is on record for the enrollment and the report.
    [delivery] = (await harness.detail(started.enrollment_id)).deliveries
    assert (delivery.status, delivery.template) == ("failed", "needs_coupon")
    assert (delivery.reason or "").startswith("render failed")
    await harness.keep_history(started.workflow_id, "failed-send-continues")


async def test_no_message_for_an_erased_profile(messaging: MessagingActivities, harness: Harness) -> None:
    ghost = send_input().model_copy(update={"profile_id": "erased-long-ago"})
    result = await ActivityEnvironment().run(messaging.send_message, ghost)
    assert (result.status, result.detail) == ("skipped", "profile erased")
    assert await harness.count(Delivery) == 0


@pytest.mark.parametrize(
    ("url", "allowed", "reason"),
    [
        ("http://127.0.0.1:9/x", ["*"], "resolves to an internal address (127.0.0.1)"),
        ("http://localhost:9/x", ["*"], "resolves to an internal address"),
        ("http://169.254.169.254/latest/meta-data", ["*"], "internal address (169.254.169.254)"),
        ("http://10.1.2.3/", ["*"], "internal address (10.1.2.3)"),
        (
            "https://crm.example.com/hook",
            ["hooks.example.org"],
            "'crm.example.com' is not in JOURNEYS_WEBHOOK_ALLOWED_HOSTS",
        ),
        ("ftp://127.0.0.1/", ["*"], "is not an http(s) URL"),
    ],
)
async def test_webhooks_refuse_internal_and_unlisted_hosts(
    sessionmaker: async_sessionmaker[AsyncSession],
    runtime_settings: Settings,
    harness: Harness,
    crm: CrmStandIn,
    url: str,
    allowed: list[str],
    reason: str,
) -> None:
    await harness.publish("abandoned-cart")
    await harness.profile("ida")
    settings = runtime_settings.model_copy(update={"webhook_allowed_hosts": allowed})
    messaging = MessagingActivities(sessionmaker, httpx.AsyncClient(), settings)
    request = webhook_input(crm.url).model_copy(update={"url": url})
    with pytest.raises(ApplicationError, match="webhook refused") as failure:
        await ActivityEnvironment().run(messaging.call_webhook, request)
    assert failure.value.non_retryable
    assert reason in str(failure.value)
    assert crm.received == []
    assert await harness.count(Delivery, status="failed") == 1
