"""A goal matched to the entry (abandoned-cart: an order for *this* cart) reaches only the enrollment it
belongs to, while the enrollment runs and after it ended."""

from __future__ import annotations

from typing import Any

from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually


async def track(stack: Stack, event: str, **properties: Any) -> None:
    body = {"userId": "gina", "event": event, "properties": properties}
    assert (await stack.api.post("/v1/track", json=body, headers=WRITE)).status_code == 200


async def carts(stack: Stack) -> dict[str, dict[str, Any]]:
    response = await stack.api.get("/api/journeys/abandoned-cart/enrollments", headers=ADMIN)
    return {e["correlation"]: e for e in response.json() if e["profile_id"] == "gina"}


async def credited(stack: Stack, cart: str) -> int:
    [(count,)] = await stack.sql(
        "SELECT count(*) FROM outcomes o JOIN exposures x ON x.id = o.exposure_id"
        " JOIN enrollments e ON e.id = x.enrollment_id WHERE e.correlation = :cart",
        cart=cart,
    )
    return int(count)


async def test_an_order_ends_and_credits_only_its_own_cart(stack: Stack) -> None:
    await track(stack, "cart_updated", cart_id="g1", total=60)
    await track(stack, "cart_updated", cart_id="g2", total=80)
    await eventually(lambda: _has(carts(stack), {"g1", "g2"}))

    await track(stack, "order_completed", cart_id="g1", revenue=60)

    async def g1_converted() -> bool:
        return bool((await carts(stack))["g1"]["status"] == "exited:goal")

    await eventually(g1_converted)
    await eventually(stack.drained)  # the order reached both enrollments' workflows
    assert (await carts(stack))["g2"]["status"] == "active"
    assert (await credited(stack, "g1"), await credited(stack, "g2")) == (1, 0)

    # Ended by hand, g2 still converts inside the goal's window: credited to g2 alone, once.
    g2 = (await carts(stack))["g2"]["id"]
    assert (await stack.api.post(f"/api/enrollments/{g2}/exit", headers=ADMIN)).status_code in (200, 202)

    async def g2_ended() -> bool:
        return bool((await carts(stack))["g2"]["status"] == "exited:operator")

    await eventually(g2_ended)
    await track(stack, "order_completed", cart_id="g2", revenue=80)
    await eventually(stack.drained)
    assert (await credited(stack, "g1"), await credited(stack, "g2")) == (1, 1)
    [(value,)] = await stack.sql(
        "SELECT o.value FROM outcomes o JOIN exposures x ON x.id = o.exposure_id"
        " JOIN enrollments e ON e.id = x.enrollment_id WHERE e.correlation = 'g2'"
    )
    assert float(value) == 80


async def _has(found: Any, expected: set[str]) -> bool:
    return set(await found) == expected
