"""The ingest baseline: a bare FastAPI endpoint doing one asyncpg insert per request (no validation,
no identity, no outbox), served with the same uvicorn settings as the journeys API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=5, max_size=20)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/track")
async def track(request: Request) -> dict[str, bool]:
    body = await request.body()
    await request.app.state.pool.execute("INSERT INTO bench_events (body) VALUES ($1::jsonb)", body.decode())
    return {"success": True}


@app.get("/inbox/{profile_id}")
async def inbox(profile_id: str) -> list[dict[str, object]]:
    """The read-path baseline: one indexed select, rows straight to JSON (no auth, no profile lookup)."""
    rows = await app.state.pool.fetch(
        "SELECT id, payload->>'subject' AS subject, payload->>'body' AS body, sent_at FROM deliveries"
        " WHERE profile_id = $1 AND channel = 'in_app' AND status = 'sent' ORDER BY id DESC LIMIT 20",
        profile_id,
    )
    return [dict(row) for row in rows]
