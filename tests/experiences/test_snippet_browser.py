"""journeys.js on a shop's page in Chromium: a new visitor sees the default hero; after their
`cart_updated` event the next page view shows the cart-upsell variation."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from api.app import create_app
from engine.settings import Settings
from runtime.devstack.ports import free_port
from tests.experiences.test_decide import ADMIN, WRITE
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, Served

CLIENT_KEY = "test-client-key"
HERO = {
    "key": "hero",
    "name": "Homepage hero",
    "placement": "homepage_hero",
    "rules": [{"when": {"signal": "cart_value", "op": "gt", "value": 0}, "variation": "finish_order"}],
    "default": "welcome",
    "variations": {
        "welcome": {"content": "<h2>Welcome to the shop</h2>"},
        "finish_order": {"content": "<h2>Your cart is waiting</h2>"},
    },
}
UPSELL = {
    "key": "upsell",
    "name": "Cart upsell",
    "placement": "cart_upsell",
    "rules": [{"when": {"signal": "cart_value", "op": "gte", "value": 100}, "variation": "free_shipping"}],
    "default": "nothing",
    "variations": {
        "nothing": {"content": ""},
        "free_shipping": {"content": "<p>Free shipping on your {{ profile.signals.cart_value }} cart</p>"},
    },
}
PAGE = """<!doctype html><html><body><h1>A shop</h1>
<div data-placement="homepage_hero"><h2>Loading…</h2></div>
<div data-placement="cart_upsell"></div>
<button onclick="journeys.track('cart_updated', {cart_id: 'c1', total: 120}).then(function () {
  document.title = 'tracked'; })">Add to cart</button>
<script src="%(api)s/sdk/journeys.js" data-write-key="%(key)s" %(signed_in)s></script>
</body></html>"""


def shop(api: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        # /?user=…&token=…: the page of a signed-in user, as the shop's server would render it.
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        signed_in = " ".join(
            f'{attribute}="{html.escape(query[name])}"'
            for name, attribute in (("user", "data-user-id"), ("token", "data-person-token"))
            if name in query
        )
        body = (PAGE % {"api": api, "key": CLIENT_KEY, "signed_in": signed_in}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.fixture
async def site(settings: Settings, db_engine: Any) -> AsyncIterator[tuple[str, str]]:
    shop_port = free_port()
    origin = f"http://127.0.0.1:{shop_port}"
    configured = settings.model_copy(update={"cors_origins": [origin], "client_write_keys": [CLIENT_KEY]})
    async with Served(create_app(configured)) as api:
        url = f"http://127.0.0.1:{api.port}"
        async with httpx.AsyncClient(base_url=url) as client:
            for experience in (HERO, UPSELL):
                saved = await client.put(
                    f"/api/experiences/{experience['key']}", json=experience, headers=ADMIN
                )
                assert saved.status_code == 201, saved.text
            async with Served(shop(url), shop_port):
                yield url, origin


async def test_the_snippet_shows_the_default_then_reacts_to_the_cart(site: tuple[str, str]) -> None:
    api, origin = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        await page.goto(f"{origin}/")
        hero = page.locator("[data-placement=homepage_hero]")
        await expect(hero).to_have_text("Welcome to the shop")
        await expect(page.locator("[data-placement=cart_upsell]")).to_have_text("")
        await page.screenshot(path=str(SCREENSHOTS / "experience-new-visitor.png"))

        await page.get_by_role("button", name="Add to cart").click()
        await expect(page).to_have_title("tracked")
        await page.reload()  # the next page view
        await expect(hero).to_have_text("Your cart is waiting")
        await expect(page.locator("[data-placement=cart_upsell]")).to_have_text(
            "Free shipping on your 120 cart"
        )
        assert await hero.get_attribute("data-variation") == "finish_order"
        await page.screenshot(path=str(SCREENSHOTS / "experience-after-cart.png"))
        visitor = await page.evaluate("journeys.anonymousId")
        await browser.close()
    async with httpx.AsyncClient(base_url=api) as client:
        profile = (await client.get(f"/api/profiles/{visitor}", headers=ADMIN)).json()
    viewed = [e for e in profile["recent_events"] if e["name"] == "Experience Viewed"]
    # Two page views of two placements (the empty upsell too), each reported with its decision.
    assert len(viewed) == 4
    assert {e["properties"]["variation"] for e in viewed} == {
        "welcome",
        "nothing",
        "finish_order",
        "free_shipping",
    }


async def test_a_signed_in_page_is_personalized_only_with_the_users_token(site: tuple[str, str]) -> None:
    api, origin = site
    async with httpx.AsyncClient(base_url=api) as client:
        cart = {"userId": "ada", "event": "cart_updated", "properties": {"cart_id": "c9", "total": 40}}
        assert (await client.post("/v1/track", json=cart, headers=WRITE)).status_code == 200
        token = (await client.post("/api/profiles/ada/token", headers=ADMIN)).json()["token"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        hero = page.locator("[data-placement=homepage_hero]")
        # Naming a user without their token: refused, and the page keeps what it had.
        await page.goto(f"{origin}/?user=ada")
        await expect(page.locator("html")).to_have_attribute("data-journeys", "decided")
        await expect(hero).to_have_text("Loading…")
        await page.goto(f"{origin}/?user=ada&token={quote(token)}")
        await expect(hero).to_have_text("Your cart is waiting")
        await page.screenshot(path=str(SCREENSHOTS / "experience-signed-in.png"))
        await browser.close()
