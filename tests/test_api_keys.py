"""Key scopes: the admin token does anything; an analyst token reads and changes nothing; a write key only
ingests; a person's own token reads their inbox and signals only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from engine.profiles import tokens
from engine.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}
ANALYST = {"Authorization": "Bearer test-analyst-token"}
WRITE = {"Authorization": "Bearer test-write-key"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _person(api: httpx.AsyncClient, user: str) -> None:
    response = await api.post("/v1/identify", json={"userId": user, "traits": {"plan": "pro"}}, headers=WRITE)
    assert response.status_code == 200


async def test_an_analyst_token_reads_everything_and_changes_nothing(api_client: httpx.AsyncClient) -> None:
    await _person(api_client, "ann")
    assert (await api_client.get("/api/journeys", headers=ANALYST)).status_code == 200
    assert (await api_client.get("/api/profiles/ann", headers=ANALYST)).json()["traits"] == {"plan": "pro"}
    erase = await api_client.delete("/api/profiles/ann", headers=ANALYST)
    assert erase.status_code == 403
    assert "admin token" in erase.json()["message"]
    assert (await api_client.get("/api/profiles/ann", headers=ADMIN)).status_code == 200  # still there
    minted = await api_client.post("/api/profiles/ann/token", headers=ANALYST)
    assert minted.status_code == 403


async def test_a_write_key_only_ingests(api_client: httpx.AsyncClient) -> None:
    await _person(api_client, "bea")
    assert (await api_client.get("/api/profiles/bea", headers=WRITE)).status_code == 403
    assert (await api_client.get("/api/profiles/bea/signals", headers=WRITE)).status_code == 403


async def test_a_person_token_opens_that_persons_inbox_and_signals_only(
    api_client: httpx.AsyncClient, settings: Settings
) -> None:
    await _person(api_client, "cid")
    await _person(api_client, "dee")
    minted = await api_client.post("/api/profiles/cid/token", json={"ttl_seconds": 600}, headers=ADMIN)
    assert minted.status_code == 200, minted.text
    mine = bearer(minted.json()["token"])
    assert (await api_client.get("/api/profiles/cid/inbox", headers=mine)).json() == []
    signals = await api_client.get("/api/profiles/cid/signals?names=orders_count", headers=mine)
    assert signals.json()["signals"] == {"orders_count": 0}
    # Someone else's data, and everything beyond the person's own reads, stay closed.
    for url in ("/api/profiles/dee/inbox", "/api/profiles/dee/signals", "/api/profiles/cid", "/api/journeys"):
        assert (await api_client.get(url, headers=mine)).status_code == 403, url
    assert (await api_client.delete("/api/profiles/cid", headers=mine)).status_code == 403
    # Forged, tampered with or expired: refused.
    forged = tokens.mint("not-the-secret", "dee", datetime.now(UTC) + timedelta(hours=1))
    tampered = minted.json()["token"][:-1] + ("0" if minted.json()["token"][-1] != "0" else "1")
    expired = tokens.mint(settings.link_secret, "cid", datetime.now(UTC) - timedelta(seconds=1))
    for token, reason in (
        (forged, "not valid"),
        (tampered, "not valid"),
        (expired, "expired"),
        ("pt.x", "malformed"),
    ):
        answer = await api_client.get("/api/profiles/cid/inbox", headers=bearer(token))
        assert (answer.status_code, reason in answer.json()["message"]) == (403, True), token


async def test_a_token_lifetime_beyond_the_limit_is_refused(api_client: httpx.AsyncClient) -> None:
    await _person(api_client, "eve")
    too_long = await api_client.post("/api/profiles/eve/token", json={"ttl_seconds": 10**9}, headers=ADMIN)
    assert too_long.status_code == 422
    assert too_long.json()["problems"][0]["path"] == "ttl_seconds"
    unknown = await api_client.post("/api/profiles/nobody/token", headers=ADMIN)
    assert unknown.status_code == 404
