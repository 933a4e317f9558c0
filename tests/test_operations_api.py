"""/health, /ready, /metrics, OpenAPI and the request-size guard, against real PostgreSQL and Temporal."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.middleware import BodyLimitMiddleware
from engine.settings import Settings
from runtime.devstack.ports import free_port


async def test_health(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_postgres_and_temporal_answer(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"postgres": "ok", "temporal": "ok"}


async def _get_ready(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        return await client.get("/ready")


async def test_not_ready_when_temporal_is_unreachable(settings: Settings, db_engine: AsyncEngine) -> None:
    response = await _get_ready(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}))
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["temporal"] != "ok"
    assert body["reason"].startswith("temporal: ")


async def test_not_ready_when_postgres_is_unreachable(settings: Settings) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/journeys"
    response = await _get_ready(settings.model_copy(update={"database_url": url}))
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["temporal"] == "ok"
    assert body["reason"].startswith("postgres: ")


async def test_metrics_count_requests_by_route(api_client: httpx.AsyncClient) -> None:
    await api_client.get("/health")
    text = (await api_client.get("/metrics")).text
    assert 'journeys_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert "journeys_http_request_duration_seconds_bucket" in text


async def test_openapi_documents_the_operations_routes(api_client: httpx.AsyncClient) -> None:
    spec = (await api_client.get("/openapi.json")).json()
    assert {"/health", "/ready"} <= set(spec["paths"])
    assert spec["paths"]["/ready"]["get"]["summary"]
    assert (await api_client.get("/docs")).status_code == 200


async def test_oversized_body_with_content_length_is_refused(api_client: httpx.AsyncClient) -> None:
    response = await api_client.post("/health", content=b"x" * 1_000_001)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(("size", "status"), [(100, 200), (101, 413)])
async def test_streamed_body_is_cut_off_at_the_limit(size: int, status: int) -> None:
    """A chunked upload has no Content-Length: the limit is enforced while the body is read."""
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(size // 10):
            yield b"0123456789"
        yield b"x" * (size % 10)

    guarded = BodyLimitMiddleware(app, max_bytes=100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://t") as client:
        response = await client.post("/echo", content=chunks())
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"read": size}


async def test_docs_page_loads_every_asset_from_this_server(api_client: httpx.AsyncClient) -> None:
    page = await api_client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert len(assets) >= 3  # the script, the stylesheet, the icon
    assert [a for a in assets if not a.startswith("/")] == []  # nothing from a CDN
    for asset in assets:
        response = await api_client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 0
    assert "SwaggerUIBundle" in (await api_client.get("/docs-assets/swagger-ui-bundle.js")).text
