"""A pooled connection that died under the API (database restart, network cut) costs the request that
met it a 503 with Retry-After, nothing written; the pool is recycled and the retry succeeds."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

WRITE = {"Authorization": "Bearer test-write-key"}


async def test_a_lost_connection_is_a_retryable_503(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    track = {"userId": "ann", "event": "logged_in"}
    assert (
        await api_client.post("/v1/track", json={**track, "messageId": "m1"}, headers=WRITE)
    ).status_code == 200
    async with db_engine.begin() as connection:
        killed = await connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname ="
                " current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
        assert killed.scalar_one() >= 1  # the API's pooled connection

    lost = await api_client.post("/v1/track", json={**track, "messageId": "m2"}, headers=WRITE)
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["error"] == "database_unavailable"

    retried = await api_client.post("/v1/track", json={**track, "messageId": "m2"}, headers=WRITE)
    assert retried.status_code == 200
    async with db_engine.connect() as connection:
        stored = await connection.execute(text("SELECT message_id FROM events ORDER BY id"))
        assert stored.scalars().all() == ["m1", "m2"]
