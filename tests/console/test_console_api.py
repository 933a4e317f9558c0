"""What the console stands on: signing in for a session cookie (CSRF-safe), the built app served at
/console, journeys' activity, enrollment filters and the diff shown before publishing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from engine.journeys.bundled import EXAMPLES
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually

YAML = {**ADMIN, "Content-Type": "application/yaml"}


async def sign_in(api: httpx.AsyncClient, token: str = "test-admin-token") -> str:
    answer = await api.post("/api/session", json={"token": token})
    assert answer.status_code == 200, answer.text
    assert "httponly" in answer.headers.get_list("set-cookie")[0].lower()
    assert "samesite=strict" in answer.headers.get_list("set-cookie")[0].lower()
    return answer.cookies["journeys_csrf"]


async def test_a_session_reads_and_changes_only_with_its_csrf_header(api_client: httpx.AsyncClient) -> None:
    assert (await api_client.get("/api/session")).status_code == 401
    csrf = await sign_in(api_client)
    assert (await api_client.get("/api/session")).json()["role"] == "admin"
    assert (await api_client.get("/api/journeys")).status_code == 200  # the cookie, no bearer token

    body = (EXAMPLES / "onboarding.yaml").read_text()
    headers = {"Content-Type": "application/yaml"}
    refused = await api_client.post("/api/journeys/onboarding/publish", content=body, headers=headers)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["message"]
    forged = {**headers, "X-CSRF-Token": "0" * 64}
    assert (
        await api_client.post("/api/journeys/onboarding/publish", content=body, headers=forged)
    ).status_code == 403
    assert (await api_client.get("/api/journeys")).json() == []  # nothing was published

    with_csrf = {**headers, "X-CSRF-Token": csrf}
    published = await api_client.post("/api/journeys/onboarding/publish", content=body, headers=with_csrf)
    assert published.status_code == 201

    assert (await api_client.delete("/api/session")).status_code == 204
    assert (await api_client.get("/api/journeys")).status_code == 401


async def test_an_analyst_session_only_reads(api_client: httpx.AsyncClient) -> None:
    csrf = await sign_in(api_client, "test-analyst-token")
    assert (await api_client.get("/api/journeys")).status_code == 200
    answer = await api_client.post(
        "/api/journeys/onboarding/publish",
        content=(EXAMPLES / "onboarding.yaml").read_text(),
        headers={"Content-Type": "application/yaml", "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 403


async def test_a_bad_token_opens_no_session_and_a_tampered_cookie_is_refused(
    api_client: httpx.AsyncClient,
) -> None:
    answer = await api_client.post("/api/session", json={"token": "guess"})
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert (await api_client.post("/api/session", json={})).status_code == 422

    await sign_in(api_client)
    _, fingerprint, expires, signature = api_client.cookies["journeys_session"].split(".")
    api_client.cookies.set("journeys_session", f"admin.{fingerprint}.{int(expires) + 999999}.{signature}")
    assert (await api_client.get("/api/journeys")).status_code == 401


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        yield client


async def test_rotating_the_admin_token_ends_its_sessions(settings: Settings) -> None:
    async with client_for(settings) as before:
        await sign_in(before)
        cookie = before.cookies["journeys_session"]
    async with client_for(settings.model_copy(update={"admin_token": "a-new-token"})) as after:
        after.cookies.set("journeys_session", cookie)
        answer = await after.get("/api/session")
    assert answer.status_code == 401
    assert "changed" in answer.json()["message"]


def built_console(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir(parents=True)
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    return tmp_path


@pytest.mark.parametrize("path", ["/console", "/console/", "/console/journeys/abandoned-cart/report"])
async def test_every_console_route_answers_the_app(settings: Settings, tmp_path: Path, path: str) -> None:
    async with client_for(settings.model_copy(update={"console_dir": built_console(tmp_path)})) as client:
        page = await client.get(path)
        assert page.status_code == 200
        assert "<title>console</title>" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        asset = await client.get("/console/assets/index-abc123.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await client.get("/console/assets/nope.js")).status_code == 404
        outside = await client.get("/console/assets/..%2f..%2fpyproject.toml")
        assert "[project]" not in outside.text  # nothing outside the build is served
        root = await client.get("/")
        assert (root.status_code, root.headers["location"]) == (307, "/console/")


async def test_without_a_build_the_console_says_how_to_build_it(settings: Settings, tmp_path: Path) -> None:
    async with client_for(settings.model_copy(update={"console_dir": tmp_path / "missing"})) as client:
        page = await client.get("/console/")
    assert page.status_code == 503
    assert "The console is not built" in page.text
    assert "scripts/bootstrap.sh" in page.text


async def test_activity_counts_entries_per_node_and_journey(stack: Stack) -> None:
    for person, cart in (("gus", "g1"), ("hal", "h1")):
        event = {"userId": person, "event": "cart_updated", "properties": {"cart_id": cart, "total": 20}}
        assert (await stack.api.post("/v1/track", json=event, headers=WRITE)).status_code == 200

    async def activity() -> dict[str, object] | None:
        found = (await stack.api.get("/api/journeys/abandoned-cart/activity", headers=ADMIN)).json()
        return found if found["active"] == 2 else None

    found = await eventually(activity)
    assert (found["entered_24h"], found["entered_7d"], found["entered_total"]) == (2, 2, 2)
    assert (found["converted_24h"], found["conversion_rate"]) == (0, 0.0)
    assert found["version"] == 1
    [node] = found["nodes"]
    assert (node["node"], node["entered"], node["waiting"]) == ("wait_purchase", 2, 2)

    listed = (await stack.api.get("/api/journeys?activity=true", headers=ADMIN)).json()
    by_key = {journey["key"]: journey["activity"] for journey in listed}
    assert by_key["abandoned-cart"]["active"] == 2
    assert by_key["onboarding"]["entered_7d"] == 0

    at_node = await stack.api.get(
        "/api/journeys/abandoned-cart/enrollments?node=wait_purchase&profile=gus", headers=ADMIN
    )
    assert [e["profile_id"] for e in at_node.json()] == ["gus"]
    elsewhere = await stack.api.get("/api/journeys/abandoned-cart/enrollments?node=offer", headers=ADMIN)
    assert elsewhere.json() == []
    assert (await stack.api.get("/api/journeys/nope/activity", headers=ADMIN)).status_code == 404


async def test_the_diff_before_publishing_shows_what_would_change_and_writes_nothing(
    api_client: httpx.AsyncClient,
) -> None:
    source = (EXAMPLES / "onboarding.yaml").read_text()
    fresh = await api_client.post("/api/journeys/onboarding/diff", content=source, headers=YAML)
    assert (fresh.json()["from_version"], fresh.json()["to_version"]) == (0, 1)
    await api_client.post("/api/journeys/onboarding/publish", content=source, headers=YAML)

    changed = source.replace("    timeout: 2d\n", "    timeout: 3d\n", 1)
    diff = (await api_client.post("/api/journeys/onboarding/diff", content=changed, headers=YAML)).json()
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert [c["path"] for c in diff["changes"]] == ["nodes.wait_project.timeout"]
    assert "+    timeout: 3d" in diff["unified"]

    broken = source.replace("next: wait_project\n", "next: nowhere\n", 1)
    refused = await api_client.post("/api/journeys/onboarding/diff", content=broken, headers=YAML)
    assert refused.status_code == 422
    assert (await api_client.get("/api/journeys/onboarding", headers=ADMIN)).json()["latest_version"] == 1
