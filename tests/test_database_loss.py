"""A pooled connection that died under the API (database restart, network cut) costs the request that
met it a 503 with Retry-After, nothing written; the pool is recycled and the retry succeeds. The ingest
hot path's shared statement is retried by each of its requests on the careful path at once."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

WRITE = {"Authorization": "Bearer test-write-key"}


async def kill_the_apis_connections(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        killed = await connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname ="
                " current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
        assert killed.scalar_one() >= 1  # the API's pooled connection


async def stored(db_engine: AsyncEngine) -> list[str]:
    async with db_engine.connect() as connection:
        rows = await connection.execute(text("SELECT message_id FROM events ORDER BY id"))
        return list(rows.scalars())


async def test_a_lost_connection_is_a_retryable_503(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    identify = {"userId": "ann", "traits": {"plan": "pro"}}  # traits: the careful path, in a transaction
    assert (
        await api_client.post("/v1/identify", json={**identify, "messageId": "m1"}, headers=WRITE)
    ).status_code == 200
    await kill_the_apis_connections(db_engine)

    lost = await api_client.post("/v1/identify", json={**identify, "messageId": "m2"}, headers=WRITE)
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["error"] == "database_unavailable"

    retried = await api_client.post("/v1/identify", json={**identify, "messageId": "m2"}, headers=WRITE)
    assert retried.status_code == 200
    assert await stored(db_engine) == ["m1", "m2"]


async def test_an_event_whose_shared_statement_lost_its_connection_is_stored_once(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    track = {"userId": "ann", "event": "logged_in"}
    assert (
        await api_client.post("/v1/track", json={**track, "messageId": "m1"}, headers=WRITE)
    ).status_code == 200
    await kill_the_apis_connections(db_engine)

    response = await api_client.post("/v1/track", json={**track, "messageId": "m2"}, headers=WRITE)
    assert (response.status_code, response.json()["accepted"]) == (200, 1)
    assert await stored(db_engine) == ["m1", "m2"]
