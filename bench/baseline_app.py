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
