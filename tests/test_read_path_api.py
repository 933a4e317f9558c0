"""The site's fast reads: a person's live signals, correct the instant an event is committed."""

from __future__ import annotations

import httpx

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}


async def test_signals_reflect_the_event_just_posted(api_client: httpx.AsyncClient) -> None:
    for _ in range(2):
        tracked = await api_client.post(
            "/v1/track", json={"anonymousId": "visitor-9", "event": "logged_in"}, headers=WRITE
        )
        assert tracked.status_code == 200
    by_anonymous_id = await api_client.get("/api/profiles/visitor-9/signals?names=logins_7d", headers=ADMIN)
    assert by_anonymous_id.status_code == 200
    body = by_anonymous_id.json()
    assert body["signals"] == {"logins_7d": 2}
    twice = await api_client.get("/api/profiles/visitor-9/signals?names=logins_7d,logins_7d", headers=ADMIN)
    assert (twice.status_code, twice.json()["signals"]) == (200, {"logins_7d": 2})

    await api_client.post("/v1/track", json={"anonymousId": "visitor-9", "event": "logged_in"}, headers=WRITE)
    everything = (await api_client.get(f"/api/profiles/{body['profile_id']}/signals", headers=ADMIN)).json()
    assert everything["signals"]["logins_7d"] == 3
    assert {"cart_value", "engagement_score", "orders_count"} <= set(everything["signals"])


async def test_unknown_signals_and_people_are_named(api_client: httpx.AsyncClient) -> None:
    await api_client.post("/v1/track", json={"userId": "ann", "event": "logged_in"}, headers=WRITE)
    unknown = await api_client.get("/api/profiles/ann/signals?names=logins_7d,mood", headers=ADMIN)
    assert unknown.status_code == 422
    assert unknown.json()["problems"] == [{"path": "query.names", "message": "unknown signal 'mood'"}]
    missing = await api_client.get("/api/profiles/nobody/signals", headers=ADMIN)
    assert missing.status_code == 404
    assert (await api_client.get("/api/profiles/ann/signals")).status_code == 401


async def test_a_person_is_found_by_any_of_their_ids(api_client: httpx.AsyncClient) -> None:
    async def found(key: str) -> str:
        response = await api_client.get(f"/api/profiles/{key}/signals?names=orders_count", headers=ADMIN)
        assert response.status_code == 200, (key, response.text)
        return str(response.json()["profile_id"])

    await api_client.post("/v1/track", json={"userId": "max", "event": "signed_up"}, headers=WRITE)
    await api_client.post("/v1/track", json={"anonymousId": "tab", "event": "viewed"}, headers=WRITE)
    await api_client.post("/v1/identify", json={"userId": "max", "anonymousId": "tab"}, headers=WRITE)
    # Merged: every id of the absorbed visitor answers with the survivor.
    assert [await found(key) for key in ("max", "tab", "anon-tab")] == ["max"] * 3

    await api_client.post("/v1/track", json={"anonymousId": "v2", "event": "viewed"}, headers=WRITE)
    await api_client.post("/v1/identify", json={"userId": "new-2", "anonymousId": "v2"}, headers=WRITE)
    assert await found("new-2") == "anon-v2"  # a user id whose profile was created anonymously

    # When one key is several people's, a profile id wins over a user id, and a user id over an anonymous id.
    await api_client.post("/v1/track", json={"anonymousId": "max", "event": "viewed"}, headers=WRITE)
    await api_client.post("/v1/track", json={"anonymousId": "new-2", "event": "viewed"}, headers=WRITE)
    assert await found("max") == "max"
    assert await found("new-2") == "anon-v2"
    assert await found("anon-max") == "anon-max"
