"""Every path of the abandoned-cart reference journey, on the time-skipping server."""

from __future__ import annotations

from engine.journeys.assignment import in_holdout, variant_for
from tests.runtime.harness import Delivery, Harness

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
