"""/v1/import is history: it changes what the engine knows about people, never their journeys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually


async def test_imported_history_updates_signals_but_enrolls_no_one(stack: Stack) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    messages: list[dict[str, Any]] = [
        {"type": "identify", "userId": "ivy", "traits": {"plan": "pro"}, "messageId": "h-1"},
        {
            "type": "track",
            "userId": "ivy",
            "event": "cart_updated",
            "properties": {"cart_id": "old", "total": 99},
            "timestamp": yesterday,
            "messageId": "h-2",
        },
        {"type": "track", "userId": "ivy", "event": "signed_up", "messageId": "h-3"},
    ]
    imported = await stack.api.post("/v1/import", json={"batch": messages}, headers=WRITE)
    assert imported.json()["accepted"] == 3
    signals = (await stack.api.get("/api/profiles/ivy/signals?names=cart_value", headers=ADMIN)).json()
    assert signals["signals"] == {"cart_value": 99}
    assert (await stack.api.get("/api/profiles/ivy", headers=ADMIN)).json()["traits"] == {"plan": "pro"}
    assert await stack.sql("SELECT count(*) FROM outbox") == [(0,)]
    await asyncio.sleep(1)  # a dispatcher that had anything to route would have by now
    assert (await stack.api.get("/api/profiles/ivy/enrollments", headers=ADMIN)).json() == []

    # The same through /v1/batch is live behaviour: it enrolls.
    live = {"batch": [{**messages[2], "messageId": "l-3"}]}
    assert (await stack.api.post("/v1/batch", json=live, headers=WRITE)).json()["accepted"] == 1

    async def enrolled() -> list[str]:
        found = (await stack.api.get("/api/profiles/ivy/enrollments", headers=ADMIN)).json()
        return [e["journey"] for e in found]

    assert await eventually(enrolled) == ["onboarding"]
