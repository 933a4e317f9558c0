"""The whole event path: Segment-style HTTP → PostgreSQL (event, profile, outbox) → dispatcher →
Temporal → journey, on the dev server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from segment.analytics import Client as SegmentClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.outbox.dispatcher import Dispatcher, running_dispatcher
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually
from tests.predictions.conftest import import_shop
from tests.support.live_api import live_api


async def enrollments(stack: Stack, journey: str) -> list[dict[str, Any]]:
    response = await stack.api.get(f"/api/journeys/{journey}/enrollments", headers=ADMIN)
    return response.json()  # type: ignore[no-any-return]


async def test_anonymous_cart_then_login_then_purchase_converts(stack: Stack) -> None:
    await stack.api.post(
        "/v1/identify", json={"userId": "sam", "traits": {"first_name": "Sam"}}, headers=WRITE
    )
    await stack.api.post(
        "/v1/track",
        json={"anonymousId": "v-9", "event": "cart_updated", "properties": {"cart_id": "k1", "total": 60}},
        headers=WRITE,
    )
    [cart] = await eventually(lambda: enrollments(stack, "abandoned-cart"))
    assert (cart["profile_id"], cart["correlation"], cart["status"]) == ("anon-v-9", "k1", "active")

    # The visitor logs in: their anonymous profile is merged into Sam's.
    await stack.api.post("/v1/identify", json={"anonymousId": "v-9", "userId": "sam"}, headers=WRITE)
    await stack.api.post(
        "/v1/track",
        json={"userId": "sam", "event": "order_completed", "properties": {"cart_id": "k1", "revenue": 60}},
        headers=WRITE,
    )

    async def converted() -> bool:
        return [e["status"] for e in await enrollments(stack, "abandoned-cart")] == ["exited:goal"]

    await eventually(converted)
    profile = (await stack.api.get("/api/profiles/v-9", headers=ADMIN)).json()
    assert profile["id"] == "sam"
    assert profile["merged_profiles"] == ["anon-v-9"]


async def test_the_same_batch_twice_creates_nothing_twice(stack: Stack) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": f"twin-{n}", "event": "signed_up", "messageId": f"signup-{n}"}
            for n in range(3)
        ]
    }
    first = await stack.api.post("/v1/batch", json=batch, headers=WRITE)
    second = await stack.api.post("/v1/batch", json=batch, headers=WRITE)
    assert (first.json()["accepted"], second.json()["duplicates"]) == (3, 3)
    await eventually(stack.drained)

    async def welcomed() -> list[tuple[Any, ...]]:
        return await stack.sql("SELECT count(*) FROM deliveries WHERE template = 'welcome'")

    await eventually(lambda: _equals(welcomed, [(3,)]))
    assert await stack.sql("SELECT count(*) FROM events") == [(3,)]
    assert await stack.sql("SELECT count(*) FROM enrollments") == [(3,)]
    assert await stack.sql("SELECT count(*) FROM deliveries") == [(3,)]


async def _equals(check: Any, expected: Any) -> bool:
    return bool(await check() == expected)


async def test_an_audience_journey_enrolls_when_the_churn_model_says_so(stack: Stack) -> None:
    """churn-rescue has no trigger event: the customer's own events make the audience condition true,
    here the trained model's churn risk, read as of each event."""
    await import_shop(stack.api)  # history: it enrolls no one
    assert (await stack.api.post("/api/models/train", headers=ADMIN)).status_code == 201
    long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    old_order = {"userId": "risky", "event": "order_completed", "timestamp": long_ago}
    await stack.api.post("/v1/track", json=old_order, headers=WRITE)
    await eventually(stack.drained)
    assert await enrollments(stack, "churn-rescue") == []  # as of that order, they had just bought
    await stack.api.post("/v1/track", json={"userId": "risky", "event": "ticket_opened"}, headers=WRITE)
    [entered] = await eventually(lambda: enrollments(stack, "churn-rescue"))
    assert entered["profile_id"] == "risky"


async def test_a_segment_sdk_pointed_at_journeys(stack: Stack, settings: Settings) -> None:
    with live_api(settings) as url:
        client = SegmentClient("test-write-key", host=url, sync_mode=True, max_retries=0)
        client.identify("sdk-user", {"email": "sdk@example.com", "plan": "pro"})
        client.track("sdk-user", "signed_up", {"source": "sdk"})
        client.alias("sdk-device-1", "sdk-user")
        client.flush()
        assert client.queue.empty()

    profile = (await stack.api.get("/api/profiles/sdk-user", headers=ADMIN)).json()
    assert profile["traits"] == {"email": "sdk@example.com", "plan": "pro"}
    assert sorted(e["name"] for e in profile["recent_events"]) == ["alias", "identify", "signed_up"]
    assert {(i["kind"], i["value"]) for i in profile["identities"]} >= {
        ("user_id", "sdk-user"),
        ("anonymous_id", "sdk-device-1"),
    }
    [onboarding] = await eventually(lambda: enrollments(stack, "onboarding"))
    assert onboarding["profile_id"] == "sdk-user"


async def test_dispatcher_is_woken_by_notify(
    stack: Stack,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    temporal_dev: WorkflowEnvironment,
) -> None:
    """A dispatcher that would poll only once a minute still routes within moments: NOTIFY woke it."""
    patient = Dispatcher(settings, sessionmaker, temporal_dev.client, poll_seconds=60)
    async with running_dispatcher(patient):
        await asyncio.sleep(0.5)  # let it drain what is there and go to sleep
        before = patient.routed + stack.dispatcher.routed
        await stack.api.post("/v1/track", json={"userId": "quick", "event": "page_viewed"}, headers=WRITE)
        await eventually(lambda: _true(patient.routed + stack.dispatcher.routed > before), patience=5)


async def _true(value: bool) -> bool:
    return value


async def test_erasing_a_person_ends_their_journeys_and_keeps_anonymous_counts(stack: Stack) -> None:
    await stack.api.post("/v1/track", json={"userId": "erase-me", "event": "signed_up"}, headers=WRITE)
    [enrollment] = await eventually(lambda: enrollments(stack, "onboarding"))
    response = await stack.api.delete("/api/profiles/erase-me", headers=ADMIN)
    assert response.json() == {"enrollments_exited": 1}
    assert (await stack.api.get("/api/profiles/erase-me", headers=ADMIN)).status_code == 404

    async def exited() -> bool:
        [row] = await stack.sql(
            "SELECT status, profile_id FROM enrollments WHERE id = :id", id=enrollment["id"]
        )
        return row == ("exited:operator", "erased")

    await eventually(exited)
    assert await stack.sql("SELECT count(*) FROM events") == [(0,)]
    assert await stack.sql("SELECT count(*) FROM identities") == [(0,)]
    # The welcome email, whether sent before the erasure or skipped after it, keeps no content.
    assert all(payload == {} for (payload,) in await stack.sql("SELECT payload FROM deliveries"))


async def test_two_dispatchers_route_every_event_exactly_once(
    stack: Stack,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    temporal_dev: WorkflowEnvironment,
) -> None:
    second = Dispatcher(settings, sessionmaker, temporal_dev.client)
    async with running_dispatcher(second):
        for n in range(20):
            batch = {
                "batch": [
                    {"type": "track", "userId": f"pair-{n}", "event": "signed_up"},
                    {"type": "track", "userId": f"pair-{n}", "event": "project_created"},
                    {"type": "track", "userId": f"pair-{n}", "event": "teammate_invited"},
                ]
            }
            assert (await stack.api.post("/v1/batch", json=batch, headers=WRITE)).json()["accepted"] == 3
        await eventually(stack.drained)
    assert stack.dispatcher.routed + second.routed == 60  # each outbox row routed by one dispatcher, once
    assert await stack.sql("SELECT count(*), count(DISTINCT profile_id) FROM enrollments") == [(20, 20)]
    assert await stack.sql("SELECT max(attempts) FROM outbox") == [(0,)]


async def test_a_persons_events_reach_temporal_in_the_order_they_came(
    stack: Stack, settings: Settings
) -> None:
    """The dispatcher's drain loops route concurrently, each person's events one after the other."""
    assert settings.dispatch_concurrency > 1

    async def person(n: int) -> None:
        for event in ("signed_up", "project_created", "teammate_invited", "page_viewed"):
            message = {"userId": f"order-{n}", "event": event}
            assert (await stack.api.post("/v1/track", json=message, headers=WRITE)).status_code == 200

    await asyncio.gather(*(person(n) for n in range(20)))
    await eventually(stack.drained)
    assert await stack.sql(
        "SELECT count(*) FROM outbox a JOIN outbox b ON a.profile_id = b.profile_id AND a.id < b.id"
        " WHERE a.processed_at >= b.processed_at"
    ) == [(0,)]


async def test_an_enrollment_that_just_ended_does_not_block_routing(stack: Stack) -> None:
    """Its row still said active when the event was routed, but the workflow had closed."""
    await stack.api.post("/v1/track", json={"userId": "late", "event": "signed_up"}, headers=WRITE)
    [enrollment] = await eventually(lambda: enrollments(stack, "onboarding"))
    await stack.api.post(f"/api/enrollments/{enrollment['id']}/exit", headers=ADMIN)

    async def ended() -> bool:
        return bool((await enrollments(stack, "onboarding"))[0]["status"] == "exited:operator")

    await eventually(ended)
    # Pretend the status write had not landed when the next event was routed:
    async with stack.db.begin() as connection:
        await connection.execute(
            text("UPDATE enrollments SET status = 'active' WHERE id = :id"), {"id": enrollment["id"]}
        )
    await stack.api.post("/v1/track", json={"userId": "late", "event": "project_created"}, headers=WRITE)
    await eventually(stack.drained)
    assert await stack.sql("SELECT max(attempts) FROM outbox") == [(0,)]
