from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy.exc import DBAPIError

from api.deps import StateDep
from engine.health.service import readiness
from engine.outbox.service import DeadLetterService

router = APIRouter(tags=["operations"])
# Read from PostgreSQL at each scrape: whichever process routes or parks, every API process reports it.
OUTBOX = Gauge("journeys_outbox_events", "Outbox events by state", ["state"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up and serving requests."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A dependency is unreachable; the body says which"}})
async def ready(state: StateDep) -> JSONResponse:
    """Readiness: PostgreSQL and Temporal are reachable (503 with the reason otherwise)."""
    checks = await readiness(state.engine, state.temporal)
    ok = all(check.ok for check in checks)
    body: dict[str, Any] = {
        "status": "ready" if ok else "unavailable",
        "checks": {check.name: check.detail for check in checks},
    }
    if not ok:
        body["reason"] = "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep) -> Response:
    try:
        async with state.read_sessionmaker() as session:
            outbox = await DeadLetterService(session).status()
        OUTBOX.labels("pending").set(outbox.pending)
        OUTBOX.labels("parked").set(outbox.parked)
    except (OSError, DBAPIError):  # PostgreSQL away: the request metrics still answer (/ready says why)
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
