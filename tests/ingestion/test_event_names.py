"""Events named as Segment's specs name them (`Order Completed`), as apps name them (`orderCompleted`,
`order-completed`) and as journeys name them (`order_completed`) are one event, everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from segment.analytics import Client as SegmentClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.events.names import event_key
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, Stack, eventually
from tests.support.live_api import live_api

NAMES = [
    "Order Completed",
    "order_completed",
    "orderCompleted",
    "order-completed",
    "  Order  Completed ",
    "ORDER COMPLETED",
    "Order.Completed",
    "Product Added",
    "checkoutStep2Viewed",
    "a1B2C",
    "__weird__name__",
]


@pytest.mark.parametrize("name", NAMES)
async def test_postgres_keys_a_name_as_python_does(db_engine: AsyncEngine, name: str) -> None:
    # The same rule twice (engine.events.names and migration 0015's generated column): they must agree.
    async with db_engine.begin() as connection:
        await connection.execute(text("INSERT INTO profiles (id, traits) VALUES ('k', '{}')"))
        await connection.execute(
            text(
                "INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
                " VALUES ('m', 'k', 'track', :name, '{}', '{}', now())"
            ),
            {"name": name},
        )
        [(key,)] = (await connection.execute(text("SELECT name_key FROM events"))).all()
    assert key == event_key(name)


def test_the_names_apps_use_share_one_key() -> None:
    assert {event_key(name) for name in NAMES[:7]} == {"order_completed"}


async def enrollments(stack: Stack, journey: str, profile: str) -> list[dict[str, Any]]:
    response = await stack.api.get(f"/api/journeys/{journey}/enrollments", headers=ADMIN)
    return [e for e in response.json() if e["profile_id"] == profile]


async def test_segment_spec_events_run_the_reference_journeys(stack: Stack, settings: Settings) -> None:
    with live_api(settings) as url:
        client = SegmentClient("test-write-key", host=url, sync_mode=True, max_retries=0)
        client.identify("spec-user", {"email": "spec@example.com"})
        client.track("spec-user", "Signed Up", {"source": "spec"})  # onboarding's entry: signed_up
        client.track("spec-user", "Cart Updated", {"cart_id": "s1", "total": 90})  # abandoned-cart's entry
        client.track("spec-user", "Checkout Started", {"cart_id": "s1", "value": 90})
        client.flush()
    [onboarding] = await eventually(lambda: enrollments(stack, "onboarding", "spec-user"))
    [cart] = await eventually(lambda: enrollments(stack, "abandoned-cart", "spec-user"))
    assert (cart["correlation"], cart["status"]) == ("s1", "active")
    signals = await stack.api.get("/api/profiles/spec-user/signals?names=cart_value", headers=ADMIN)
    assert signals.json()["signals"]["cart_value"] == 90

    with live_api(settings) as url:
        client = SegmentClient("test-write-key", host=url, sync_mode=True, max_retries=0)
        # Segment's Order Completed: `total` (no `revenue` here), the cart in `cart_id`.
        client.track("spec-user", "Order Completed", {"cart_id": "s1", "order_id": "o1", "total": 90})
        client.flush()

    async def converted() -> bool:
        [found] = await enrollments(stack, "abandoned-cart", "spec-user")
        return bool(found["status"] == "exited:goal")

    await eventually(converted)
    signals = await stack.api.get(
        "/api/profiles/spec-user/signals?names=orders_count,lifetime_value", headers=ADMIN
    )
    assert signals.json()["signals"] == {"orders_count": 1, "lifetime_value": 90}
    profile = (await stack.api.get("/api/profiles/spec-user", headers=ADMIN)).json()
    assert "Order Completed" in [e["name"] for e in profile["recent_events"]]  # stored as sent
    assert onboarding["status"] == "active"
