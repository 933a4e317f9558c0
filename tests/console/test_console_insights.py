"""The console's pages for predictions and segments, in Chromium, on a simulated shop."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.console.conftest import Console
from tests.ingestion.conftest import ADMIN, WRITE
from tests.predictions.conftest import import_shop


async def test_models_segments_and_a_profiles_predictions(console: Console) -> None:
    api = console.stack.api
    shop = await import_shop(api)
    assert (await api.post("/api/models/train", headers=ADMIN)).status_code == 201
    spenders = {"name": "Big spenders", "condition": {"signal": "lifetime_value", "op": "gte", "value": 1000}}
    assert (await api.put("/api/segments/big-spenders", json=spenders, headers=ADMIN)).status_code == 201
    person = next(t.user_id for t in shop.truth if not t.alive_at_end and t.orders_in_window >= 1)
    order = {"userId": person, "event": "order_completed", "properties": {"revenue": 1500}}
    assert (await api.post("/v1/track", json=order, headers=WRITE)).status_code == 200

    page = console.page
    await console.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    compared = page.get_by_role("table", name="Held-out comparison")
    for model in ("recency", "bgnbd", "supervised"):
        await expect(compared.locator(f"[data-model={model}]")).to_contain_text(re.compile(r"0\.\d{3}"))
    await expect(compared.get_by_text("shipped")).to_have_count(1)
    await expect(page.get_by_role("figure", name="Score distribution").locator("svg").first).to_be_visible()
    await expect(page.get_by_role("table", name="Clusters").locator("tbody tr").first).to_be_visible()
    await console.screenshot("models")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    row = page.locator("[data-segment=big-spenders]")
    await expect(row.locator("[data-count=members]")).to_have_text("1", timeout=10_000)
    await row.get_by_role("link", name="Big spenders").click()
    await expect(
        page.get_by_role("region", name="Members").get_by_role("link", name=re.compile("."))
    ).to_have_count(1)
    await console.screenshot("segments")

    await page.goto(f"{console.url}/console/profiles/{person}")
    why = page.get_by_role("list", name="Why churn_risk")
    await expect(why.locator("li").first).to_contain_text(re.compile(r"[↑↓] risk$"))
    await expect(page.get_by_role("table", name="Predictive signals")).to_contain_text("rfm_segment")
    await console.screenshot("profile-predictions")


async def test_an_experience_with_its_rules_counts_previews_and_report(console: Console) -> None:
    api = console.stack.api
    experience = {
        "key": "hero",
        "name": "Homepage hero",
        "placement": "homepage_hero",
        "rules": [{"when": {"signal": "cart_value", "op": "gte", "value": 100}, "variation": "cart"}],
        "split": {"weights": {"calm": 50, "bold": 50}, "control": "calm"},
        "goal": {"event": "order_completed", "within": "1d"},
        "default": "calm",
        "variations": {
            "calm": {"content": "<h2>Hello {{ profile.traits.first_name | default('there') }}</h2>"},
            "bold": {"content": "<h2>HELLO {{ profile.traits.first_name | default('THERE') }}</h2>"},
            "cart": {"content": "<h2>Your cart: {{ profile.signals.cart_value }}</h2>"},
        },
    }
    assert (await api.put("/api/experiences/hero", json=experience, headers=ADMIN)).status_code == 201
    await api.post("/v1/identify", json={"userId": "ola", "traits": {"first_name": "Ola"}}, headers=WRITE)
    cart = {"userId": "ola", "event": "cart_updated", "properties": {"cart_id": "c", "total": 180}}
    assert (await api.post("/v1/track", json=cart, headers=WRITE)).status_code == 200
    for n in range(6):
        body = {"userId": f"visitor-{n}", "placements": ["homepage_hero"]}
        assert (await api.post("/v1/decide", json=body, headers=WRITE)).status_code == 200

    page = console.page
    await console.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Experiences").click()
    await page.get_by_role("link", name="Homepage hero").click()
    await expect(page.get_by_role("region", name="Rules")).to_contain_text("cart_value ≥ 100 → cart")
    counts = page.get_by_role("table", name="Decisions in the last 24 hours")
    shown = [int(await counts.locator(f"[data-variation={v}] td").inner_text()) for v in ("calm", "bold")]
    assert sum(shown) == 6

    await page.get_by_label("Preview for profile").fill("ola")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_role("status")).to_have_text("They match: rule:0 → cart")
    frame = page.frame_locator("iframe[title='cart preview']")
    await expect(frame.locator("h2")).to_have_text("Your cart: 180")
    await expect(page.frame_locator("iframe[title='calm preview']").locator("h2")).to_have_text("Hello Ola")
    await expect(page.get_by_role("table", name=re.compile("Report · goal order_completed"))).to_be_visible()
    await console.screenshot("experience")
