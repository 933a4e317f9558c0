"""Identity and erasure under concurrency: no event stranded on a profile merged away, no enrollment
outliving an erased person, no outbox row blocking a person, one enrollment per person and cart across
a merge."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from engine.enrollments.pseudonyms import person_key
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually


def _id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


async def _track(api: httpx.AsyncClient, event: str, **fields: object) -> None:
    response = await api.post("/v1/track", json={"event": event, **fields}, headers=WRITE)
    assert response.status_code == 200, response.text


async def test_no_event_is_stranded_on_a_profile_merged_away(api_client: httpx.AsyncClient) -> None:
    """A visitor identifies as a known user while orders from both ids arrive at the same moment: every
    order ends on the survivor, whichever way the race goes (issue: 24 of 50 stayed behind)."""
    trials = 30
    people = [(_id("known"), _id("visitor")) for _ in range(trials)]
    for user, visitor in people:  # both known already: the orders take the fast path
        await _track(api_client, "page_viewed", userId=user)
        await _track(api_client, "page_viewed", anonymousId=visitor)

    async def race(user: str, visitor: str) -> None:
        order = {"revenue": 10}
        await asyncio.gather(
            _track(api_client, "order_completed", anonymousId=visitor, properties=order),
            api_client.post("/v1/identify", json={"userId": user, "anonymousId": visitor}, headers=WRITE),
            _track(api_client, "order_completed", anonymousId=visitor, properties=order),
            _track(api_client, "order_completed", userId=user, properties=order),
        )

    await asyncio.gather(*(race(user, visitor) for user, visitor in people))
    stranded = []
    for user, visitor in people:
        signals = (await api_client.get(f"/api/profiles/{user}/signals", headers=ADMIN)).json()["signals"]
        if (signals["orders_count"], signals["lifetime_value"]) != (3, 30):
            stranded.append((visitor, signals["orders_count"]))
    assert stranded == []
    merged = (await api_client.get(f"/api/profiles/{people[0][0]}", headers=ADMIN)).json()
    assert merged["merged_profiles"] == [f"anon-{people[0][1]}"]


async def test_an_order_written_while_a_merge_is_under_way_lands_on_the_survivor(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    """The race made certain: the merge is held half-way (the visitor's identity row locked by the test)
    while the visitor's order is posted."""
    user, visitor = _id("known"), _id("visitor")
    await _track(api_client, "page_viewed", userId=user)
    await _track(api_client, "page_viewed", anonymousId=visitor)
    async with db_engine.connect() as blocker:
        held = await blocker.begin()
        await blocker.execute(
            text("SELECT 1 FROM identities WHERE kind = 'anonymous_id' AND value = :v FOR UPDATE"),
            {"v": visitor},
        )
        identify = asyncio.create_task(
            api_client.post("/v1/identify", json={"userId": user, "anonymousId": visitor}, headers=WRITE)
        )
        await asyncio.sleep(0.5)  # the merge is under way, waiting for that row
        order = asyncio.create_task(
            _track(api_client, "order_completed", anonymousId=visitor, properties={"revenue": 10})
        )
        await asyncio.sleep(0.5)
        await held.rollback()
    assert (await identify).status_code == 200
    await order
    signals = (await api_client.get(f"/api/profiles/{user}/signals", headers=ADMIN)).json()["signals"]
    assert (signals["orders_count"], signals["lifetime_value"]) == (1, 10)


async def test_two_devices_identifying_at_once_leave_nothing_behind(api_client: httpx.AsyncClient) -> None:
    trials = 20
    people = [(_id("known"), _id("phone"), _id("laptop")) for _ in range(trials)]
    for user, phone, laptop in people:
        await _track(api_client, "page_viewed", userId=user)
        for device in (phone, laptop):
            await _track(api_client, "page_viewed", anonymousId=device)

    async def race(user: str, phone: str, laptop: str) -> None:
        identify = [
            api_client.post("/v1/identify", json={"userId": user, "anonymousId": d}, headers=WRITE)
            for d in (phone, laptop)
        ]
        orders = [
            _track(api_client, "order_completed", anonymousId=d, properties={"revenue": 5})
            for d in (phone, laptop)
        ]
        await asyncio.gather(*identify, *orders)

    await asyncio.gather(*(race(*person) for person in people))
    for user, *_ in people:
        signals = (await api_client.get(f"/api/profiles/{user}/signals", headers=ADMIN)).json()["signals"]
        assert signals["orders_count"] == 2, user


async def _running_workflows(temporal: Client, settings: Settings, profile_id: str) -> list[str]:
    key = person_key(settings.link_secret, profile_id)
    query = f"PersonKey = '{key}' AND ExecutionStatus = 'Running'"
    return [execution.id async for execution in temporal.list_workflows(query)]


async def test_erasing_right_after_an_entry_leaves_no_enrollment_running(
    stack: Stack, temporal_client: Client, settings: Settings
) -> None:
    """The entry event is committed (200) but not yet routed when the erasure comes: whichever of the
    two goes first, no enrollment row stays active and no workflow runs afterwards (issue: 9 of 10)."""
    people = [_id("shopper") for _ in range(8)]
    for person in people:
        cart = {"cart_id": _id("cart"), "total": 80}
        await _track(stack.api, "cart_updated", userId=person, properties=cart)
        erased = await stack.api.delete(f"/api/profiles/{person}", headers=ADMIN)
        assert erased.status_code == 200, erased.text
    await eventually(stack.drained)
    await asyncio.sleep(1)  # a start the erasure missed would have shown by now
    assert await stack.sql("SELECT count(*) FROM enrollments WHERE status = 'active'") == [(0,)]
    for person in people:
        assert await _running_workflows(temporal_client, settings, person) == []
        assert (await stack.api.get(f"/api/profiles/{person}", headers=ADMIN)).status_code == 404


async def test_an_outbox_row_whose_event_is_gone_does_not_block_the_person(stack: Stack) -> None:
    """What an erasure racing an event used to leave: an outbox row without its event, first in the
    person's queue. The person comes back; their events route."""
    person = _id("returning")
    await _track(stack.api, "page_viewed", userId=person)
    await eventually(stack.drained)
    async with stack.db.begin() as connection:
        orphan = await connection.scalar(
            text(
                "WITH e AS (INSERT INTO events (message_id, profile_id, type, name, properties, context,"
                " timestamp) VALUES (:m, :p, 'track', 'page_viewed', '{}', '{}', now()) RETURNING id)"
                " INSERT INTO outbox (event_id, profile_id) SELECT id, :p FROM e RETURNING event_id"
            ),
            {"m": _id("message"), "p": person},
        )
        # An erasure's foreign-key cascade took the event, not its outbox row (it has no foreign key).
        await connection.execute(text("DELETE FROM events WHERE id = :id"), {"id": orphan})
    await _track(stack.api, "signed_up", userId=person)

    async def enrolled() -> list[dict[str, object]]:
        listed: list[dict[str, object]] = (
            await stack.api.get(f"/api/profiles/{person}/enrollments", headers=ADMIN)
        ).json()
        return listed

    [enrollment] = await eventually(enrolled)
    assert enrollment["journey"] == "onboarding"
    # The row is deleted rather than kept as done: it named the person whose event is gone.
    assert await stack.sql("SELECT count(*) FROM outbox WHERE event_id = :id", id=orphan) == [(0,)]


async def test_a_merged_visitor_and_their_user_share_one_enrollment_per_cart(stack: Stack) -> None:
    """Visitor A starts abandoned-cart for cart C, identifies as U, and U updates cart C: one enrollment,
    listed under U (issue: two reminders, 5 of 5; and U's list was empty)."""
    user, visitor, cart = _id("user"), _id("visitor"), _id("cart")
    await _track(stack.api, "cart_updated", anonymousId=visitor, properties={"cart_id": cart, "total": 40})
    await eventually(stack.drained)
    identified = await stack.api.post(
        "/v1/identify",
        json={"userId": user, "anonymousId": visitor, "traits": {"plan": "pro"}},
        headers=WRITE,
    )
    assert identified.status_code == 200
    await _track(stack.api, "cart_updated", userId=user, properties={"cart_id": cart, "total": 60})
    await eventually(stack.drained)
    await asyncio.sleep(0.5)
    active = await stack.sql(
        "SELECT e.profile_id FROM enrollments e JOIN journeys j ON j.id = e.journey_id"
        " WHERE j.key = 'abandoned-cart' AND e.correlation = :cart AND e.status = 'active'",
        cart=cart,
    )
    assert active == [(f"anon-{visitor}",)]
    listed = (await stack.api.get(f"/api/profiles/{user}/enrollments", headers=ADMIN)).json()
    assert [(e["journey"], e["correlation"], e["status"]) for e in listed] == [
        ("abandoned-cart", cart, "active")
    ]
