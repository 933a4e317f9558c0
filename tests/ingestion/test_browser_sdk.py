"""A website sends events with the real analytics.js (@segment/analytics-next from npm, served by
journeys) in headless Chromium: its calls land on the person's profile and enroll her, from an allowed
origin; from another origin the browser refuses (CORS) and nothing is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from engine.settings import Settings
from runtime.devstack.ports import free_port
from tests.ingestion.conftest import ADMIN, Stack, event_path, eventually
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, Served
from tests.support.crm import CrmStandIn

CLIENT_KEY = "test-client-key"

PAGE = """<!doctype html><html><body><h1>A shop</h1><p id="status">loading</p>
<script>
  var analytics = window.analytics = [];
  ["identify", "page", "track"].forEach(function (method) {
    analytics[method] = function () {
      analytics.push([method].concat(Array.prototype.slice.call(arguments)));
      return analytics;
    };
  });
  analytics._writeKey = "%(key)s";
  analytics._cdn = "%(api)s";
  analytics.identify("%(user)s", {email: "%(user)s@example.com"});
  analytics.page();
  analytics.track("Cart Updated", {cart_id: "c1", total: 40});
</script>
<script src="%(api)s/sdk/analytics.js"
  onload="document.getElementById('status').textContent = 'sent'"></script>
</body></html>"""


RUDDERSTACK_PAGE = """<!doctype html><html><body><h1>A shop</h1><p id="status">loading</p>
<script src="%(api)s/sdk/rudderstack.js"></script>
<script>
  var analytics = new rudderanalytics.RudderAnalytics();
  analytics.load("%(key)s", "%(api)s", {configUrl: "%(api)s/v1"});
  analytics.identify("%(user)s", {email: "%(user)s@example.com"});
  analytics.page();
  analytics.track("Cart Updated", {cart_id: "c1", total: 40});
  analytics.ready(function () { document.getElementById("status").textContent = "sent"; });
</script>
</body></html>"""


def page_app(api: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        sdk, _, user = scope["path"].strip("/").partition("/")  # /segment/ann, /rudderstack/bob
        page = RUDDERSTACK_PAGE if sdk == "rudderstack" else PAGE
        body = (page % {"key": CLIENT_KEY, "api": api, "user": user}).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.fixture
async def site(
    db_engine: AsyncEngine,
    temporal_dev: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm: CrmStandIn,
) -> AsyncIterator[tuple[Stack, str, int]]:
    """The whole event path behind a real HTTP port, and a shop's pages on another port."""
    shop_port = free_port()
    allowed = f"http://127.0.0.1:{shop_port}"
    browser_settings = settings.model_copy(
        update={"cors_origins": [allowed], "client_write_keys": [CLIENT_KEY]}
    )
    async with Served(create_app(browser_settings)) as api:
        api_url = f"http://127.0.0.1:{api.port}"
        async with (
            httpx.AsyncClient(base_url=api_url) as client,
            event_path(client, db_engine, temporal_dev, browser_settings, sessionmaker, crm.url) as stack,
            Served(page_app(api_url), shop_port),
        ):
            yield stack, api_url, shop_port


@pytest.mark.parametrize(("sdk", "user"), [("segment", "ann"), ("rudderstack", "bob")])
async def test_a_browser_sdk_on_an_allowed_origin_enrolls_the_visitor(
    site: tuple[Stack, str, int], sdk: str, user: str
) -> None:
    """The real SDK from npm, loaded from journeys, on a shop's page: identify, page and a Segment-spec
    `Cart Updated` land on the person's profile and enroll them in abandoned-cart for cart c1."""
    stack, _, shop_port = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        await page.goto(f"http://127.0.0.1:{shop_port}/{sdk}/{user}")
        await page.wait_for_selector("text=sent")

        async def profile() -> dict[str, Any] | None:
            found = await stack.api.get(f"/api/profiles/{user}", headers=ADMIN)
            body: dict[str, Any] = found.json()
            names = {e["name"] or e["type"] for e in body.get("recent_events", [])}
            return body if {"Cart Updated", "page"} <= names and body["enrollments"] else None

        seen = await eventually(profile)
        await page.screenshot(path=str(SCREENSHOTS / f"{sdk}-allowed-origin.png"))
        await browser.close()
    assert seen["traits"]["email"] == f"{user}@example.com"
    [enrollment] = seen["enrollments"]
    assert (enrollment["journey"], enrollment["correlation"]) == ("abandoned-cart", "c1")
    cart = next(e for e in seen["recent_events"] if e["name"] == "Cart Updated")
    assert cart["properties"] == {"cart_id": "c1", "total": 40}


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
async def test_a_page_on_another_origin_is_refused_by_the_browser(
    site: tuple[Stack, str, int], sdk: str
) -> None:
    stack, _, shop_port = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        await page.goto(f"http://localhost:{shop_port}/{sdk}/eve")  # same server, another origin

        async def blocked() -> bool:
            return any("blocked by CORS policy" in message for message in messages)

        await eventually(blocked, patience=15)
        await asyncio.sleep(1)  # whatever the SDK would still send, it has sent
        await page.screenshot(path=str(SCREENSHOTS / f"{sdk}-refused-origin.png"))
        await browser.close()
    assert (await stack.api.get("/api/profiles/eve", headers=ADMIN)).status_code == 404
