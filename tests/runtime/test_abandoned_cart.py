"""Every path of the abandoned-cart reference journey, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from engine.delivery.webhooks import sign
from engine.enrollments.pseudonyms import workflow_id_for
from engine.journeys.assignment import in_holdout, variant_for
from tests.runtime.harness import Delivery, EnrollmentStep, Harness
from tests.support.crm import CrmStandIn

WEIGHTS = [("plain_reminder", 50.0), ("discount", 50.0)]


def profile_in(variant: str, prefix: str) -> str:
    """A profile id that the split assigns to `variant` and the holdout leaves out (hashing is public)."""
    for n in range(1000):
        pid = f"{prefix}-{n}"
        if (
            not in_holdout("abandoned-cart", pid, 5)
            and variant_for("abandoned-cart", "offer", pid, WEIGHTS) == variant
        ):
            return pid
    raise AssertionError("no such profile")


async def test_converts_inside_the_window(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "buyer")
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="c1", total=80)
    )
    await harness.at_node(started.workflow_id, "wait_purchase")
    await harness.signal(started.workflow_id, harness.event(pid, "order_completed", cart_id="c1", revenue=80))
    result = await harness.result(started.workflow_id)
    assert result.status == "exited:goal"
    assert result.path == ["wait_purchase"]
    assert await harness.count(Delivery, enrollment_id=started.enrollment_id) == 0


async def test_times_out_low_value_cart_gets_the_plain_reminder(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "browser")
    await harness.profile(pid, {"email": f"{pid}@example.com"})
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="c2", total=40)
    )
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    assert result.path == ["wait_purchase", "check_value", "reminder", "await_order", "done"]
    detail = await harness.detail(started.enrollment_id)
    [delivery] = detail.deliveries
    assert (delivery.template, delivery.channel, delivery.status) == ("cart_reminder", "email", "sent")
    assert "Your cart (c2) is waiting: 40 USD." in delivery.payload["body"]
    branch = next(step for step in detail.steps if step.node_id == "check_value")
    assert branch.decision is not None
    assert branch.decision["case"] == "default"
    assert branch.decision["signals"] == {"cart_value": 0, "engagement_score": 0}


async def engaged_high_value(harness: Harness, pid: str) -> None:
    """Cart signals and engagement come from the profile's own recent events (live signals)."""
    await harness.profile(pid, {"email": f"{pid}@example.com"})
    await harness.past_events(pid, "cart_updated", properties={"cart_id": "big", "total": 240})
    await harness.past_events(pid, "page_viewed", 9)


async def test_engaged_high_value_discount_variant_calls_the_crm_and_credits_the_split(
    harness: Harness, crm: CrmStandIn
) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "vip")
    await engaged_high_value(harness, pid)
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="big", total=240)
    )
    await harness.at_node(started.workflow_id, "wait_purchase")
    await harness.skip(timedelta(hours=1, minutes=1))  # no purchase within the hour
    await harness.at_node(started.workflow_id, "await_order")
    await harness.signal(
        started.workflow_id, harness.event(pid, "order_completed", cart_id="big", revenue=216.5)
    )
    result = await harness.result(started.workflow_id)
    assert result.status == "exited:goal"
    assert result.path == [
        "wait_purchase",
        "check_value",
        "offer",
        "discount_email",
        "notify_crm",
        "await_order",
    ]

    detail = await harness.detail(started.enrollment_id)
    branch = next(s for s in detail.steps if s.node_id == "check_value")
    assert branch.decision == {
        "case": 0,
        "next": "offer",
        "signals": {"cart_value": 240, "engagement_score": 100},
        "traits": {"email": f"{pid}@example.com"},
    }
    assert [(e.node_id, e.variant) for e in detail.exposures] == [
        ("__holdout__", "treatment"),
        ("offer", "discount"),
    ]
    assert [(d.channel, d.template, d.status) for d in detail.deliveries] == [
        ("email", "cart_discount", "sent"),
        ("webhook", None, "sent"),
    ]

    [call] = crm.received
    assert call.path == "/hooks/cart-abandoned"
    assert call.json() == {"profile_id": pid, "cart_id": "big", "cart_value": "240", "variant": "discount"}
    assert call.headers["Idempotency-Key"] == f"{started.enrollment_id}:notify_crm:1"
    timestamp = int(call.headers["X-Journeys-Signature"].split(",")[0].removeprefix("t="))
    assert call.headers["X-Journeys-Signature"] == sign("test-secret", timestamp, call.body)

    # The purchase is credited once to every exposure inside the 3-day window, with its revenue.
    assert await harness.outcomes(started.enrollment_id) == [
        ("__holdout__", "treatment", 216.5),
        ("offer", "discount", 216.5),
    ]
    await harness.keep_history(started.workflow_id, "abandoned-cart-discount-converts")


async def test_plain_reminder_variant(harness: Harness, crm: CrmStandIn) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("plain_reminder", "vip")
    await engaged_high_value(harness, pid)
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="big", total=240)
    )
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    assert result.path == [
        "wait_purchase",
        "check_value",
        "offer",
        "reminder_high_value",
        "notify_crm",
        "await_order",
        "done",
    ]
    assert len(crm.received) == 1


async def test_high_value_but_disengaged_skips_the_experiment(harness: Harness, crm: CrmStandIn) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "quiet")
    await harness.past_events(pid, "cart_updated", properties={"cart_id": "big", "total": 500})
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="big", total=500)
    )
    result = await harness.result(started.workflow_id)
    assert result.path == [
        "wait_purchase",
        "check_value",
        "reminder_high_value",
        "notify_crm",
        "await_order",
        "done",
    ]
    assert [e.node_id for e in (await harness.detail(started.enrollment_id)).exposures] == ["__holdout__"]


async def test_holdout_follows_the_journey_but_receives_nothing(harness: Harness, crm: CrmStandIn) -> None:
    await harness.publish("abandoned-cart")
    pid = next(f"held-{n}" for n in range(10_000) if in_holdout("abandoned-cart", f"held-{n}", 5))
    await engaged_high_value(harness, pid)
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="big", total=240)
    )
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    detail = await harness.detail(started.enrollment_id)
    assert detail.holdout is True
    assert detail.deliveries == []
    assert crm.received == []
    skipped = [s.node_id for s in detail.steps if s.decision == {"skipped": "holdout"}]
    assert len(skipped) == 2  # the email and the CRM call
    assert ("__holdout__", "holdout") in [(e.node_id, e.variant) for e in detail.exposures]
    await harness.keep_history(started.workflow_id, "abandoned-cart-holdout")


async def test_unsubscribe_mid_wait_exits_at_once(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "leaver")
    started = await harness.enroll(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="c9", total=30)
    )
    await harness.at_node(started.workflow_id, "wait_purchase")
    await harness.signal(started.workflow_id, harness.event(pid, "unsubscribed"))
    result = await harness.result(started.workflow_id)
    assert result.status == "exited:criteria"
    assert result.path == ["wait_purchase"]
    detail = await harness.detail(started.enrollment_id)
    assert detail.status == "exited:criteria"
    assert detail.deliveries == []
    await harness.keep_history(started.workflow_id, "abandoned-cart-unsubscribed")


async def test_one_enrollment_per_cart(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "multi")
    first = await harness.enroll("abandoned-cart", harness.event(pid, "cart_updated", cart_id="A", total=10))
    await harness.at_node(first.workflow_id, "wait_purchase")
    again = await harness.enroll("abandoned-cart", harness.event(pid, "cart_updated", cart_id="A", total=25))
    other = await harness.enroll("abandoned-cart", harness.event(pid, "cart_updated", cart_id="B", total=5))
    secret = harness.settings.link_secret
    assert first.workflow_id == again.workflow_id == workflow_id_for(secret, "abandoned-cart", pid, "A")
    assert again.enrollment_id == first.enrollment_id
    assert other.workflow_id == workflow_id_for(secret, "abandoned-cart", pid, "B") != first.workflow_id
    assert first.started
    assert not again.started
    assert other.started
    await harness.result(first.workflow_id)
    await harness.result(other.workflow_id)
    assert await harness.count(EnrollmentStep, node_id="wait_purchase") == 2


async def test_reentry_after_exit_waits_for_the_cooldown(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    pid = profile_in("discount", "again")
    first = await harness.enroll("abandoned-cart", harness.event(pid, "cart_updated", cart_id="A", total=10))
    await harness.at_node(first.workflow_id, "wait_purchase")
    await harness.skip(timedelta(hours=1, minutes=1))
    await harness.at_node(first.workflow_id, "await_order")
    await harness.skip(timedelta(days=2, minutes=1))
    assert await harness.closed(first.workflow_id) == "COMPLETED"

    await harness.skip(timedelta(days=6))  # 6 days after the exit: still inside the 7-day cooldown
    refused = await harness.refusal(
        "abandoned-cart", harness.event(pid, "cart_updated", cart_id="A", total=10)
    )
    assert refused == "re-entry: after_exit cooldown not over"

    await harness.skip(timedelta(days=1, hours=1))
    later = await harness.enroll("abandoned-cart", harness.event(pid, "cart_updated", cart_id="A", total=10))
    await harness.at_node(later.workflow_id, "wait_purchase")
    assert (await harness.detail(later.enrollment_id)).status == "active"
