"""One person's bad event never stalls anyone: a value that is not a number never breaks a signal; an
event whose routing keeps failing for a reason of its own is retried with backoff, then parked where an
operator can see, retry or drop it, while everyone else's events, and that person's later ones, route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.outbox.dispatcher import MAX_ATTEMPTS
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE, Stack, event_path, eventually
from tests.support.crm import CrmStandIn

# A real fault, inside PostgreSQL: recording any enrollment of this person fails, as a bug or a constraint
# no rule foresaw would. Nothing in Python is patched.
POISON = [
    "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.profile_id LIKE 'poison-%' THEN RAISE EXCEPTION '% cannot be enrolled', NEW.profile_id; END IF;"
    " RETURN NEW; END $$",
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON enrollments FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
]
CURE = ["DROP TRIGGER IF EXISTS refuse_poison ON enrollments", "DROP FUNCTION IF EXISTS refuse_poison()"]


async def run_sql(stack: Stack, statements: list[str]) -> None:
    async with stack.db.begin() as connection:
        for statement in statements:
            await connection.exec_driver_sql(statement)


@pytest.fixture
async def fast_retry_stack(
    api_client: httpx.AsyncClient,
    db_engine: AsyncEngine,
    temporal_dev: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm: CrmStandIn,
) -> AsyncIterator[Stack]:
    """The whole event path, with a dispatcher whose retry waits are 20 ms instead of a second."""
    path = event_path(
        api_client, db_engine, temporal_dev, settings, sessionmaker, crm.url, retry_base_seconds=0.02
    )
    async with path as stack:
        try:
            yield stack
        finally:
            await run_sql(stack, CURE)


async def track(stack: Stack, user: str, event: str, **properties: Any) -> None:
    body = {"userId": user, "event": event, "properties": properties}
    response = await stack.api.post("/v1/track", json=body, headers=WRITE)
    assert response.status_code == 200, response.text


async def carts(stack: Stack, user: str) -> list[str]:
    rows = await stack.sql("SELECT correlation FROM enrollments WHERE profile_id = :p ORDER BY 1", p=user)
    return [row[0] for row in rows]


async def test_a_total_that_is_not_a_number_breaks_no_signal(stack: Stack) -> None:
    await track(stack, "bad-1", "cart_updated", cart_id="bc1", total="1.2.3")
    await track(stack, "bad-1", "cart_updated", cart_id="bc2", total="12.50")
    await track(stack, "ann", "cart_updated", cart_id="a1", total=40)
    await eventually(stack.drained)

    signals = await stack.api.get("/api/profiles/bad-1/signals?names=cart_value", headers=ADMIN)
    assert signals.status_code == 200
    assert signals.json()["signals"]["cart_value"] == 12.5  # the malformed total is left out
    assert (await stack.api.get("/api/profiles/bad-1", headers=ADMIN)).status_code == 200
    # "12.50" > 0 holds as 12.5 > 0 does; "1.2.3" > 0 does not, and fails nothing.
    assert await carts(stack, "bad-1") == ["bc2"]
    assert await carts(stack, "ann") == ["a1"]
    assert await stack.sql("SELECT max(attempts) FROM outbox") == [(0,)]


async def test_a_poison_event_is_parked_and_stalls_nobody(fast_retry_stack: Stack) -> None:
    stack = fast_retry_stack
    await run_sql(stack, POISON)
    # In one dispatch: the poison event first, then someone else's. The failure must not leak into theirs.
    batch = {
        "batch": [
            {
                "type": "track",
                "userId": "poison-1",
                "event": "cart_updated",
                "messageId": "poison-cart",
                "properties": {"cart_id": "p1", "total": 10},
            },
            {
                "type": "track",
                "userId": "amy",
                "event": "cart_updated",
                "messageId": "amy-cart",
                "properties": {"cart_id": "m1", "total": 10},
            },
        ]
    }
    assert (await stack.api.post("/v1/batch", json=batch, headers=WRITE)).json()["accepted"] == 2
    assert await eventually(lambda: carts(stack, "amy")) == ["m1"]

    async def parked() -> list[dict[str, Any]]:
        response = await stack.api.get("/api/outbox/dead", headers=ADMIN)
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    [dead] = await eventually(parked)
    assert (dead["message_id"], dead["event"], dead["profile_id"]) == (
        "poison-cart",
        "cart_updated",
        "poison-1",
    )
    assert dead["attempts"] == MAX_ATTEMPTS
    assert "poison-1 cannot be enrolled" in dead["error"]
    status = (await stack.api.get("/api/outbox", headers=ADMIN)).json()
    assert status == {"pending": 0, "parked": 1}
    metrics = (await stack.api.get("/metrics")).text
    assert 'journeys_outbox_events{state="parked"} 1.0' in metrics

    # Parked, it no longer holds back that person's later events.
    await track(stack, "poison-1", "page_viewed")
    await eventually(
        lambda: stack.sql(
            "SELECT 1 FROM outbox o JOIN events e ON e.id = o.event_id"
            " WHERE e.name = 'page_viewed' AND o.processed_at IS NOT NULL"
        )
    )

    # The operator fixes the cause and retries: the event routes, once.
    await run_sql(stack, CURE)
    retried = await stack.api.post(f"/api/outbox/dead/{dead['id']}/retry", headers=ADMIN)
    assert retried.status_code == 202
    assert await eventually(lambda: carts(stack, "poison-1")) == ["p1"]
    assert await parked() == []
    again = await stack.api.post(f"/api/outbox/dead/{dead['id']}/retry", headers=ADMIN)
    assert again.status_code == 404


async def test_a_parked_event_can_be_dropped(fast_retry_stack: Stack) -> None:
    stack = fast_retry_stack
    await run_sql(stack, POISON)
    await track(stack, "poison-2", "cart_updated", cart_id="p9", total=5)
    [dead] = await eventually(lambda: _json(stack.api.get("/api/outbox/dead", headers=ADMIN)))
    dropped = await stack.api.delete(f"/api/outbox/dead/{dead['id']}", headers=ADMIN)
    assert dropped.status_code == 204
    assert (await stack.api.get("/api/outbox/dead", headers=ADMIN)).json() == []
    # Dropped, never routed, still stored.
    assert await stack.sql("SELECT count(*) FROM events WHERE profile_id = 'poison-2'") == [(1,)]
    assert await carts(stack, "poison-2") == []
    unknown = await stack.api.delete("/api/outbox/dead/999999", headers=ADMIN)
    assert unknown.status_code == 404


async def _json(request: Any) -> Any:
    return (await request).json()
