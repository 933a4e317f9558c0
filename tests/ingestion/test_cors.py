"""What browsers need from the ingestion API: CORS for the configured origins only, client write keys
that only ingest, text/plain bodies (analytics.js sends those to skip the preflight), the sender's
address kept as context.ip, and the settings analytics.js loads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from engine.enrollments.contracts import EventEnvelope
from engine.journeys.conditions import Condition
from engine.journeys.context import condition_context
from engine.journeys.evaluate import evaluate
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE

SHOP = "https://shop.example"
CLIENT = {"Authorization": "Bearer browser-key"}


@pytest.fixture
async def api(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"cors_origins": [SHOP], "client_write_keys": ["browser-key"]})
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_a_preflight_from_an_allowed_origin_is_answered_and_others_are_not(
    api: httpx.AsyncClient,
) -> None:
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await api.options("/v1/track", headers={"Origin": SHOP, **asked})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    # RudderStack's SDK asks for headers of its own; a name that is not a header name is not echoed.
    rudderstack = {**asked, "Access-Control-Request-Headers": "anonymousid,rsa-request-attempt,bad header"}
    echoed = (await api.options("/v1/track", headers={"Origin": SHOP, **rudderstack})).headers
    assert {"anonymousid", "rsa-request-attempt"} <= set(echoed["access-control-allow-headers"].split(", "))
    assert "bad header" not in echoed["access-control-allow-headers"]
    refused = await api.options("/v1/track", headers={"Origin": "https://evil.example", **asked})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    # The admin API answers no preflight: a browser on any origin cannot call it.
    admin = await api.options("/api/journeys", headers={"Origin": SHOP, **asked})
    assert "access-control-allow-origin" not in admin.headers


async def test_a_client_key_ingests_from_its_origins_only(api: httpx.AsyncClient) -> None:
    event = {"userId": "ann", "event": "Product Viewed"}
    sent = await api.post("/v1/track", json=event, headers={**CLIENT, "Origin": SHOP})
    assert sent.status_code == 200
    assert sent.headers["access-control-allow-origin"] == SHOP
    elsewhere = await api.post(
        "/v1/track", json={**event, "userId": "eve"}, headers={**CLIENT, "Origin": "https://x.example"}
    )
    assert elsewhere.status_code == 403
    no_origin = await api.post("/v1/track", json={**event, "userId": "eve"}, headers=CLIENT)
    assert no_origin.status_code == 403
    history = {"batch": [{**event, "userId": "eve", "type": "track"}]}
    assert (await api.post("/v1/import", json=history, headers={**CLIENT, "Origin": SHOP})).status_code == 403
    assert (await api.get("/api/journeys", headers={**CLIENT, "Origin": SHOP})).status_code == 403
    assert (await api.get("/api/profiles/eve", headers=ADMIN)).status_code == 404  # nothing of eve's stored
    # A server key is not bound to origins.
    assert (await api.post("/v1/import", json=history, headers=WRITE)).status_code == 200


async def test_text_plain_bodies_and_the_senders_address(
    api: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    """analytics.js posts JSON as text/plain with the write key inside, to /v1/t, /v1/p, /v1/i."""
    body = json.dumps(
        {
            "writeKey": "browser-key",
            "userId": "bea",
            "event": "Cart Viewed",
            "context": {"page": {"path": "/cart"}},
        }
    )
    sent = await api.post("/v1/t", content=body, headers={"Content-Type": "text/plain", "Origin": SHOP})
    assert sent.status_code == 200, sent.text
    profile = (await api.get("/api/profiles/bea", headers=ADMIN)).json()
    assert [e["name"] for e in profile["recent_events"]] == ["Cart Viewed"]
    async with db_engine.connect() as connection:
        context = (await connection.execute(text("SELECT context FROM events"))).scalar_one()
    assert context == {"page": {"path": "/cart"}, "ip": "127.0.0.1"}  # the connection's, kept


async def test_analytics_js_settings_route_its_calls_to_journeys(api: httpx.AsyncClient) -> None:
    settings = (await api.get("/v1/projects/browser-key/settings", headers={"Origin": SHOP})).json()
    segment = settings["integrations"]["Segment.io"]
    assert (segment["apiKey"], segment["apiHost"], segment["protocol"]) == ("browser-key", "test/v1", "http")
    assert (await api.get("/v1/projects/nobody/settings")).status_code == 404


def test_conditions_read_the_senders_context() -> None:
    """An entry condition on the campaign that brought the visitor: `event.context.campaign.source`."""
    condition = TypeAdapter(Condition).validate_python(
        {"field": "event.context.campaign.source", "op": "eq", "value": "newsletter"}
    )
    now = datetime.now(UTC)

    def event(context: dict[str, Any]) -> EventEnvelope:
        return EventEnvelope(id="m", name="Cart Updated", profile_id="p", context=context, timestamp=now)

    assert evaluate(condition, condition_context(event=event({"campaign": {"source": "newsletter"}})), now)
    assert not evaluate(condition, condition_context(event=event({"campaign": {"source": "ads"}})), now)
    assert not evaluate(condition, condition_context(event=event({})), now)
