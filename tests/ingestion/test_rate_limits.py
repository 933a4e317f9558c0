"""Ingestion budgets: a write key (or an address) that floods /v1 gets 429 with Retry-After, and nobody
else notices."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from engine.ingestion.rate_limits import RateLimiter
from engine.settings import Settings


def test_a_bucket_refills_at_its_rate() -> None:
    limiter = RateLimiter(per_second=2, burst=4)
    assert [limiter.wait("a", 0.0) for _ in range(4)] == [0, 0, 0, 0]
    assert limiter.wait("a", 0.0) == 0.5  # empty: the next token comes in half a second
    assert limiter.wait("b", 0.0) == 0  # another sender has a budget of its own
    assert limiter.wait("a", 0.5) == 0  # refilled by then


async def test_a_flooding_key_is_slowed_and_another_key_is_not(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    limited = settings.model_copy(
        update={"write_keys": ["flood-key", "calm-key"], "rate_limit_per_key": 5, "rate_limit_per_ip": 0}
    )
    app = create_app(limited)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as api,
    ):
        event = {"userId": "u", "event": "page_viewed"}
        flood = [(await api.post("/v1/track", json=event, auth=("flood-key", ""))) for _ in range(30)]
        statuses = [r.status_code for r in flood]
        assert statuses[:10] == [200] * 10  # the burst: twice the rate
        assert 429 in statuses
        refused = next(r for r in flood if r.status_code == 429)
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"] == "rate_limited"
        calm = await api.post("/v1/track", json=event, auth=("calm-key", ""))
        assert calm.status_code == 200
        # A refused request wrote nothing: only the accepted ones are stored.
        async with db_engine.connect() as connection:
            stored = (await connection.exec_driver_sql("SELECT count(*) FROM events")).scalar_one()
        assert stored == statuses.count(200) + 1
