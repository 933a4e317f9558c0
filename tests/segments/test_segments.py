"""Named segments over the whole event path: membership kept as events arrive, segment_entered and
segment_exited routed to journeys, versions, members and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.segments import membership
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually, stack

__all__ = ["stack"]
YAML = {**ADMIN, "Content-Type": "application/yaml"}
BIG_CARTS = {
    "name": "Big carts",
    "description": "a cart worth 100 or more",
    "condition": {"signal": "cart_value", "op": "gte", "value": 100},
}
CARE = """
key: big-cart-care
name: Big cart care
entry:
  event: segment_entered
  when: {field: event.properties.segment, op: eq, value: big-carts}
exit_when:
  - event: segment_exited
    when: {field: event.properties.segment, op: eq, value: big-carts}
start: pause
nodes:
  pause: {type: wait, duration: 1d, next: done}
  done: {type: exit}
"""


async def cart(api: httpx.AsyncClient, person: str, total: float) -> None:
    event = {
        "userId": person,
        "event": "cart_updated",
        "properties": {"cart_id": f"{person}-c", "total": total},
    }
    assert (await api.post("/v1/track", json=event, headers=WRITE)).status_code == 200


async def test_segments_are_versioned_and_validated(api_client: httpx.AsyncClient) -> None:
    created = await api_client.put("/api/segments/big-carts", json=BIG_CARTS, headers=ADMIN)
    assert created.status_code == 201
    assert (created.json()["version"], created.json()["members"]) == (1, 0)
    same = await api_client.put("/api/segments/big-carts", json=BIG_CARTS, headers=ADMIN)
    assert (same.status_code, same.json()["version"], same.json()["created"]) == (200, 1, False)
    bigger = {**BIG_CARTS, "condition": {"signal": "cart_value", "op": "gte", "value": 200}}
    assert (await api_client.put("/api/segments/big-carts", json=bigger, headers=ADMIN)).json()[
        "version"
    ] == 2

    unknown = {**BIG_CARTS, "condition": {"signal": "cart_vaule", "op": "gte", "value": 1}}
    refused = await api_client.put("/api/segments/typo", json=unknown, headers=ADMIN)
    assert refused.status_code == 422
    assert "cart_vaule" in refused.json()["message"]
    bad_key = await api_client.put("/api/segments/Not A Key", json=BIG_CARTS, headers=ADMIN)
    assert bad_key.status_code == 422
    listed = (await api_client.get("/api/segments", headers=ADMIN)).json()
    assert [(s["key"], s["version"]) for s in listed] == [("big-carts", 2)]
    assert (await api_client.get("/api/segments/nope/members", headers=ADMIN)).status_code == 404


async def test_an_event_moves_a_person_in_and_out_and_journeys_follow(stack: Stack) -> None:
    api = stack.api
    assert (await api.put("/api/segments/big-carts", json=BIG_CARTS, headers=ADMIN)).status_code == 201
    # A segment built on another: {segment: key} in a condition.
    engaged = {
        "name": "Big carts, pro plan",
        "condition": {
            "all": [{"segment": "big-carts"}, {"field": "profile.traits.plan", "op": "eq", "value": "pro"}]
        },
    }
    assert (await api.put("/api/segments/big-pro", json=engaged, headers=ADMIN)).status_code == 201
    assert (
        await api.post("/api/journeys/big-cart-care/publish", content=CARE, headers=YAML)
    ).status_code == 201
    await api.post("/v1/identify", json={"userId": "kim", "traits": {"plan": "pro"}}, headers=WRITE)

    await cart(api, "kim", 150)

    async def members(key: str) -> int:
        found: int = (await api.get(f"/api/segments/{key}", headers=ADMIN)).json()["members"]
        return found

    async def care() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await api.get("/api/journeys/big-cart-care/enrollments", headers=ADMIN)
        ).json()
        return found

    assert await eventually(lambda: members("big-carts")) == 1
    assert await members("big-pro") == 1
    [enrolled] = await eventually(care)
    assert enrolled["status"] == "active"
    page = (await api.get("/api/segments/big-carts/members", headers=ADMIN)).json()
    assert [m["profile_id"] for m in page] == [enrolled["profile_id"]]

    await cart(api, "kim", 20)  # the cart shrinks: out of the segment, and out of the journey

    async def exited() -> bool:
        listed = await care()
        return bool(listed[0]["status"] == "exited:criteria")

    await eventually(exited)
    assert await members("big-carts") == 0
    assert await members("big-pro") == 0
    history = (await api.get("/api/segments/big-carts/history", headers=ADMIN)).json()
    assert [h["change"] for h in history] == ["exited", "entered"]
    events = await stack.sql(
        "SELECT name, properties->>'segment' FROM events WHERE name LIKE 'segment_%' ORDER BY id"
    )
    assert events == [
        ("segment_entered", "big-carts"),
        ("segment_entered", "big-pro"),
        ("segment_exited", "big-carts"),
        ("segment_exited", "big-pro"),
    ]


async def test_erasing_a_person_removes_them_from_segments_and_their_history(stack: Stack) -> None:
    api = stack.api
    assert (await api.put("/api/segments/big-carts", json=BIG_CARTS, headers=ADMIN)).status_code == 201
    await cart(api, "lee", 300)

    async def members() -> int:
        found: int = (await api.get("/api/segments/big-carts", headers=ADMIN)).json()["members"]
        return found

    assert await eventually(members) == 1
    assert (await api.delete("/api/profiles/lee", headers=ADMIN)).status_code == 200
    assert await members() == 0
    assert (await api.get("/api/segments/big-carts/history", headers=ADMIN)).json() == []


async def test_the_sweep_finds_who_entered_a_segment_with_time_alone(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lapsed = {"name": "Lapsed", "condition": {"signal": "days_since_last_order", "op": "gte", "value": 60}}
    assert (await api_client.put("/api/segments/lapsed", json=lapsed, headers=ADMIN)).status_code == 201
    order = {"userId": "ned", "event": "order_completed", "properties": {"revenue": 20}}
    assert (await api_client.post("/v1/track", json=order, headers=WRITE)).status_code == 200
    now = datetime.now(UTC)
    assert await membership.sweep(sessionmaker, now) == 0  # he just ordered

    assert await membership.sweep(sessionmaker, now + timedelta(days=61)) == 1  # two months on
    assert await membership.sweep(sessionmaker, now + timedelta(days=61)) == 0  # once
    members = (await api_client.get("/api/segments/lapsed/members", headers=ADMIN)).json()
    assert len(members) == 1
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT e.name, e.properties->>'segment', o.id IS NOT NULL FROM events e"
                " LEFT JOIN outbox o ON o.event_id = e.id WHERE e.name = 'segment_entered'"
            )
        )
        assert rows.all() == [("segment_entered", "lapsed", True)]  # routed like any event
