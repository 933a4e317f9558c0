from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import StateDep
from engine.health.service import readiness

router = APIRouter(tags=["operations"])


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
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
