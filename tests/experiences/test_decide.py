"""/v1/decide over real PostgreSQL: rules in order with their explanation, fresh signals, sticky splits
across a login, the frequency cap, and bad input answered plainly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from engine.settings import Settings
from tests.ingestion.conftest import eventually

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}
UPSELL = {
    "key": "cart-upsell",
    "name": "Cart upsell",
    "placement": "cart_upsell",
    "rules": [
        {"when": {"signal": "cart_value", "op": "gte", "value": 100}, "variation": "free_shipping"},
        {"when": {"signal": "cart_value", "op": "gte", "value": 10}, "variation": "small_discount"},
        {"when": {"field": "event.context.page.path", "op": "eq", "value": "/broken"}, "variation": "broken"},
    ],
    "default": "standard",
    "variations": {
        "standard": {"content": "<p>Free returns</p>"},
        "small_discount": {"content": "<p>5% off, {{ profile.traits.first_name | default('friend') }}</p>"},
        "free_shipping": {"payload": {"banner": "free-shipping"}},
        "broken": {"content": "<p>{{ profile.traits.nothing.here }}</p>"},
    },
}
HERO = {
    "key": "hero-test",
    "name": "Hero test",
    "placement": "homepage_hero",
    "split": {"weights": {"calm": 50, "bold": 50}, "control": "calm"},
    "default": "calm",
    "variations": {"calm": {"content": "calm"}, "bold": {"content": "BOLD"}},
    "cap": {"max": 2, "per": "1d"},
}


async def decide(
    api: httpx.AsyncClient, who: dict[str, str], *placements: str, **extra: Any
) -> list[dict[str, Any]]:
    answer = await api.post(
        "/v1/decide", json={**who, "placements": list(placements), **extra}, headers=WRITE
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["decisions"]
    return found


async def cart(api: httpx.AsyncClient, user: str, total: float) -> None:
    event = {"userId": user, "event": "cart_updated", "properties": {"cart_id": "c", "total": total}}
    assert (await api.post("/v1/track", json=event, headers=WRITE)).status_code == 200


async def test_rules_decide_in_order_and_say_why(api_client: httpx.AsyncClient) -> None:
    assert (
        await api_client.put("/api/experiences/cart-upsell", json=UPSELL, headers=ADMIN)
    ).status_code == 201
    await api_client.post(
        "/v1/identify", json={"userId": "amy", "traits": {"first_name": "Amy"}}, headers=WRITE
    )

    [first] = await decide(api_client, {"userId": "amy"}, "cart_upsell", explain=True)
    assert (first["variation"], first["content"]) == ("standard", "<p>Free returns</p>")
    assert first["explanation"]["reason"] == "default"

    await cart(api_client, "amy", 40)  # an event a moment ago changes the very next decision
    [second] = await decide(api_client, {"userId": "amy"}, "cart_upsell", explain=True)
    assert (second["variation"], second["content"]) == ("small_discount", "<p>5% off, Amy</p>")
    assert second["explanation"]["reason"] == "rule:1"
    assert second["explanation"]["signals"] == {"cart_value": 40}

    await cart(api_client, "amy", 150)
    [third] = await decide(api_client, {"userId": "amy"}, "cart_upsell", explain=True)
    assert (third["variation"], third["payload"], third["content"]) == (
        "free_shipping",
        {"banner": "free-shipping"},
        None,
    )
    assert third["explanation"]["reason"] == "rule:0"  # the first rule that holds, though the second does too


async def test_a_split_is_sticky_across_login_and_capped(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    assert (await api_client.put("/api/experiences/hero-test", json=HERO, headers=ADMIN)).status_code == 201
    for n in range(10):
        # She has an account (another device), browses anonymously, then logs in: the profiles merge.
        await api_client.post(
            "/v1/identify", json={"userId": f"u{n}", "anonymousId": f"phone-{n}"}, headers=WRITE
        )
        [before] = await decide(api_client, {"anonymousId": f"laptop-{n}"}, "homepage_hero")
        await api_client.post(
            "/v1/identify", json={"userId": f"u{n}", "anonymousId": f"laptop-{n}"}, headers=WRITE
        )
        [after] = await decide(api_client, {"userId": f"u{n}"}, "homepage_hero")
        assert after["variation"] == before["variation"], n
        [capped] = await decide(api_client, {"userId": f"u{n}"}, "homepage_hero")  # at most 2 a day
        assert (capped["capped"], capped["variation"], capped["content"]) == (True, None, None)

    async def reasons() -> list[Any]:
        async with db_engine.connect() as connection:
            query = text("SELECT reason, count(*) FROM experience_decisions GROUP BY 1")
            return list((await connection.execute(query)).all())

    async def all_stored() -> bool:
        return await reasons() == [("split", 20)]

    # Each shown decision recorded (a moment after the answer) once; the capped ones were not shown.
    assert await eventually(all_stored, patience=5)
    await asyncio.sleep(0.5)
    assert await all_stored()


async def test_bad_input_is_answered_plainly(api_client: httpx.AsyncClient) -> None:
    assert (
        await api_client.put("/api/experiences/cart-upsell", json=UPSELL, headers=ADMIN)
    ).status_code == 201
    [nothing] = await decide(api_client, {"anonymousId": "v"}, "no_such_placement")
    assert (nothing["experience"], nothing["variation"]) == (None, None)
    # A variation whose template fails falls back to the default content.
    [fallback] = await decide(
        api_client, {"anonymousId": "v"}, "cart_upsell", context={"page": {"path": "/broken"}}
    )
    assert (fallback["variation"], fallback["content"]) == ("standard", "<p>Free returns</p>")

    huge = {"anonymousId": "v", "placements": ["cart_upsell"], "context": {"blob": "x" * 9000}}
    too_big = await api_client.post("/v1/decide", json=huge, headers=WRITE)
    assert too_big.status_code == 422
    nobody = await api_client.post("/v1/decide", json={"placements": ["cart_upsell"]}, headers=WRITE)
    assert nobody.status_code == 422
    unauthenticated = await api_client.post("/v1/decide", json={"anonymousId": "v", "placements": ["x"]})
    assert unauthenticated.status_code == 401

    bad = {**UPSELL, "default": "missing"}
    refused = await api_client.put("/api/experiences/cart-upsell", json=bad, headers=ADMIN)
    assert refused.status_code == 422
    assert "no variation named 'missing'" in refused.json()["message"]


async def test_the_split_is_reported_like_a_journeys(api_client: httpx.AsyncClient) -> None:
    test = {**HERO, "cap": None, "goal": {"event": "order_completed", "within": "1d"}}
    test = {k: v for k, v in test.items() if v is not None}
    assert (await api_client.put("/api/experiences/hero-test", json=test, headers=ADMIN)).status_code == 201
    seen: dict[str, int] = {}
    bought: dict[str, int] = {}
    for n in range(60):
        [decision] = await decide(api_client, {"userId": f"buyer-{n}"}, "homepage_hero")
        seen[decision["variation"]] = seen.get(decision["variation"], 0) + 1
        if n % 3 == 0:  # a third of them buy, whatever they saw
            order = {"userId": f"buyer-{n}", "event": "order_completed", "properties": {"revenue": 10}}
            assert (await api_client.post("/v1/track", json=order, headers=WRITE)).status_code == 200
            bought[decision["variation"]] = bought.get(decision["variation"], 0) + 1

    async def reported() -> dict[str, Any] | None:
        answer = await api_client.get("/api/experiences/hero-test/report", headers=ADMIN)
        report: dict[str, Any] = answer.json()
        exposed = sum(v["exposures"] for v in report["split"]["variants"])
        return report if exposed == 60 else None  # the decisions are stored a moment after their answers

    split = (await eventually(reported, patience=5))["split"]
    assert split["control"] == "calm"
    rows = {v["variant"]: v for v in split["variants"]}
    assert {name: rows[name]["exposures"] for name in rows} == seen
    assert {name: rows[name]["conversions"] for name in rows if rows[name]["conversions"]} == bought
    assert rows["bold"]["revenue"] == 10 * bought.get("bold", 0)
    assert split["verdict"]
    unsplit = await api_client.put("/api/experiences/cart-upsell", json=UPSELL, headers=ADMIN)
    assert unsplit.status_code == 201
    assert (await api_client.get("/api/experiences/cart-upsell/report", headers=ADMIN)).status_code == 409
    assert (await api_client.get("/api/experiences/nope/report", headers=ADMIN)).status_code == 404


async def test_a_websites_key_decides_for_its_anonymous_visitors_and_for_users_with_their_token(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    site = {"Authorization": "Bearer client-key", "Origin": "https://shop.example"}
    configured = settings.model_copy(
        update={"client_write_keys": ["client-key"], "cors_origins": ["https://shop.example"]}
    )
    app = create_app(configured)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as api,
    ):
        assert (await api.put("/api/experiences/cart-upsell", json=UPSELL, headers=ADMIN)).status_code == 201
        await api.post("/v1/identify", json={"userId": "ada", "traits": {"first_name": "Ada"}}, headers=WRITE)
        await api.post("/v1/identify", json={"userId": "bob"}, headers=WRITE)
        await cart(api, "ada", 20)
        body = {"placements": ["cart_upsell"]}
        anonymous = await api.post("/v1/decide", json={**body, "anonymousId": "a1"}, headers=site)
        assert anonymous.status_code == 200

        # Naming someone's user id is not enough to see what they would see (their traits in it).
        named = await api.post("/v1/decide", json={**body, "userId": "ada"}, headers=site)
        assert named.status_code == 403
        assert "X-Person-Token" in named.json()["message"]
        bobs = (await api.post("/api/profiles/bob/token", headers=ADMIN)).json()["token"]
        wrong = await api.post(
            "/v1/decide", json={**body, "userId": "ada"}, headers={**site, "X-Person-Token": bobs}
        )
        assert wrong.status_code == 403
        adas = (await api.post("/api/profiles/ada/token", headers=ADMIN)).json()["token"]
        own = await api.post(
            "/v1/decide", json={**body, "userId": "ada"}, headers={**site, "X-Person-Token": adas}
        )
        assert own.json()["decisions"][0]["content"] == "<p>5% off, Ada</p>"
        elsewhere = await api.post(
            "/v1/decide",
            json={**body, "anonymousId": "a1"},
            headers={**site, "Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403


async def test_a_holdout_sees_only_the_default_and_is_reported_against_everyone_else(
    api_client: httpx.AsyncClient,
) -> None:
    promo = {
        "key": "promo",
        "name": "Promo",
        "placement": "homepage_hero",
        "rules": [
            {"when": {"field": "event.context.page.path", "op": "eq", "value": "/"}, "variation": "promo"}
        ],
        "default": "plain",
        "variations": {"plain": {"content": "plain"}, "promo": {"content": "PROMO"}},
        "holdout": 30,
        "goal": {"event": "order_completed", "within": "1d"},
    }
    assert (await api_client.put("/api/experiences/promo", json=promo, headers=ADMIN)).status_code == 201
    arms: dict[str, int] = {}
    bought: dict[str, int] = {}
    shown: dict[str, str] = {}
    page = {"page": {"path": "/"}}
    for n in range(80):
        [decision] = await decide(
            api_client, {"userId": f"h{n}"}, "homepage_hero", context=page, explain=True
        )
        held_out = decision["explanation"]["reason"] == "holdout"
        # The rule holds for everyone; the holdout still sees the default.
        assert decision["content"] == ("plain" if held_out else "PROMO"), decision
        arm = "holdout" if held_out else "treatment"
        shown[f"h{n}"] = decision["content"]
        arms[arm] = arms.get(arm, 0) + 1
        if n % 2 == 0:
            order = {"userId": f"h{n}", "event": "order_completed", "properties": {"revenue": 5}}
            assert (await api_client.post("/v1/track", json=order, headers=WRITE)).status_code == 200
            bought[arm] = bought.get(arm, 0) + 1
    assert 10 <= arms["holdout"] <= 40  # about 30% of 80
    for user in ("h0", "h1", "h2", "h3", "h4", "h5"):  # the same person stays on their side
        [again] = await decide(api_client, {"userId": user}, "homepage_hero", context={"page": {"path": "/"}})
        assert again["content"] == shown[user]

    async def reported() -> dict[str, Any] | None:
        report: dict[str, Any] = (await api_client.get("/api/experiences/promo/report", headers=ADMIN)).json()
        rows = {v["variant"]: v for v in report["holdout"]["variants"]}
        return report if sum(v["exposures"] for v in rows.values()) == 80 else None  # people, not decisions

    report = await eventually(reported, patience=5)
    assert report["split"] is None
    rows = {v["variant"]: v for v in report["holdout"]["variants"]}
    assert report["holdout"]["control"] == "holdout"
    assert {name: rows[name]["exposures"] for name in rows} == arms
    assert {name: rows[name]["conversions"] for name in rows} == bought

    # She has an account (another device), is held out while browsing anonymously, then logs in: the
    # profiles merge, and she stays held out.
    await api_client.post("/v1/identify", json={"userId": "returning", "anonymousId": "phone"}, headers=WRITE)
    for n in range(40):
        [first] = await decide(api_client, {"anonymousId": f"anon-{n}"}, "homepage_hero", context=page)
        if first["content"] == "plain":
            break
    login = {"userId": "returning", "anonymousId": f"anon-{n}"}
    assert (await api_client.post("/v1/identify", json=login, headers=WRITE)).status_code == 200
    [after] = await decide(api_client, {"userId": "returning"}, "homepage_hero", context=page, explain=True)
    assert (after["content"], after["explanation"]["reason"]) == ("plain", "holdout")


async def test_every_connection_busy_is_a_503_to_retry_not_a_hung_request(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    app = create_app(settings.model_copy(update={"database_pool_size": 1, "database_pool_timeout": 0.5}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as api,
    ):
        assert (await api.put("/api/experiences/cart-upsell", json=UPSELL, headers=ADMIN)).status_code == 201
        await decide(api, {"userId": "busy"}, "cart_upsell")
        engine: AsyncEngine = app.state.journeys.engine
        async with engine.connect():  # the pool's one connection, held as a slow request would hold it
            busy = await api.post(
                "/v1/decide", json={"userId": "busy", "placements": ["cart_upsell"]}, headers=WRITE
            )
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert "busy" in busy.json()["message"]
        [again] = await decide(api, {"userId": "busy"}, "cart_upsell")  # free again: answered
        assert again["variation"] == "standard"
