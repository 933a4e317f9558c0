"""The Segment-compatible ingestion API against the real database (routing to Temporal is tested in
test_routing.py): what is stored, what is refused, and that a refused request writes nothing."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

BASIC = {"Authorization": "Basic " + base64.b64encode(b"test-write-key:").decode()}
ADMIN = {"Authorization": "Bearer test-admin-token"}


async def rows(db_engine: AsyncEngine, sql: str) -> list[Any]:
    async with db_engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def counts(db_engine: AsyncEngine) -> tuple[int, int, int, int]:
    [row] = await rows(
        db_engine,
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM outbox),"
        " (SELECT count(*) FROM profiles), (SELECT count(*) FROM identities)",
    )
    return row  # type: ignore[no-any-return]


async def test_track_is_stored_with_profile_identity_and_outbox_row(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    message = {
        "userId": "ann",
        "event": "cart_updated",
        "properties": {"cart_id": "c1", "total": 42},
        "messageId": "m-1",
        "context": {"ip": "127.0.0.1"},
    }
    response = await api_client.post("/v1/track", json=message, headers=BASIC)
    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0, "rejected": []}
    assert await rows(
        db_engine, "SELECT message_id, profile_id, type, name, properties->>'total' FROM events"
    ) == [("m-1", "ann", "track", "cart_updated", "42")]
    assert await rows(db_engine, "SELECT kind, value, profile_id FROM identities") == [
        ("user_id", "ann", "ann")
    ]
    assert await rows(db_engine, "SELECT profile_id, processed_at FROM outbox") == [("ann", None)]


@pytest.mark.parametrize(
    "auth",
    [
        {"headers": {"Authorization": "Bearer test-write-key"}},
        {"headers": {}, "body": {"writeKey": "test-write-key"}},
    ],
    ids=["bearer", "writeKey in body"],
)
async def test_other_ways_to_send_the_write_key(api_client: httpx.AsyncClient, auth: dict[str, Any]) -> None:
    body = {"anonymousId": "v1", "event": "page_viewed", **auth.get("body", {})}
    assert (await api_client.post("/v1/track", json=body, headers=auth["headers"])).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"wrong-key:").decode()},
        {"Authorization": "Basic %%%"},
    ],
    ids=["no key", "wrong key", "garbled"],
)
async def test_unauthenticated_requests_are_refused_and_write_nothing(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, headers: dict[str, str]
) -> None:
    response = await api_client.post("/v1/track", json={"userId": "x", "event": "e"}, headers=headers)
    assert response.status_code == 401
    assert await counts(db_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("url", "body", "status", "path", "message"),
    [
        ("/v1/track", {"event": "e"}, 400, "body", "userId or anonymousId is required"),
        ("/v1/track", {"userId": "u"}, 400, "body", "a track call needs `event`"),
        ("/v1/track", {"userId": "u", "event": "e", "timestamp": "yesterday"}, 400, "body.timestamp", None),
        ("/v1/track", {"userId": "u", "event": "e", "properties": [1]}, 400, "body.properties", None),
        ("/v1/alias", {"userId": "u"}, 400, "body", "an alias call needs `userId` and `previousId`"),
        ("/v1/batch", {"batch": []}, 400, "batch", "missing or empty"),
        # PostgreSQL's text and jsonb cannot hold U+0000: this was a 500 after the request passed as valid.
        (
            "/v1/track",
            {"userId": "u", "event": "e", "properties": {"cart": {"items": ["ok", "a\x00b"]}}},
            400,
            "body.properties.cart.items[1]",
            "contains the NUL character (\\u0000), which cannot be stored",
        ),
        ("/v1/identify", {"userId": "u\x00", "traits": {}}, 400, "body.userId", None),
        # The clock-skew correction overflowed on these (a 500).
        (
            "/v1/track",
            {
                "userId": "u",
                "event": "e",
                "timestamp": "0001-01-01T00:00:00Z",
                "sentAt": "9999-12-31T00:00:00Z",
            },
            400,
            "body.timestamp",
            "must be between 1970 and 2200",
        ),
    ],
    ids=[
        "no ids",
        "no event",
        "bad timestamp",
        "properties not an object",
        "alias without previousId",
        "empty batch",
        "NUL in a property",
        "NUL in an id",
        "timestamps out of range",
    ],
)
async def test_malformed_messages_get_a_precise_400_and_write_nothing(
    api_client: httpx.AsyncClient,
    db_engine: AsyncEngine,
    url: str,
    body: dict[str, Any],
    status: int,
    path: str,
    message: str | None,
) -> None:
    response = await api_client.post(url, json=body, headers=BASIC)
    assert response.status_code == status
    problems = response.json()["problems"]
    assert problems[0]["path"] == path
    if message is not None:
        assert problems[0]["message"] == message
    assert await counts(db_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("url", "content"),
    [
        ("/v1/track", b"{nope"),
        # Python's json module reads these; JSON and PostgreSQL's jsonb do not (it was a 500).
        ("/v1/track", b'{"userId": "u", "event": "e", "properties": {"total": NaN}}'),
        (
            "/v1/batch",
            b'{"batch": [{"type": "track", "userId": "u", "event": "e", "properties": {"x": -Infinity}}]}',
        ),
    ],
)
async def test_not_json_is_a_400(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, url: str, content: bytes
) -> None:
    response = await api_client.post(
        url, content=content, headers={**BASIC, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("body is not valid JSON")
    assert await counts(db_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize("url", ["/v1/track", "/v1/batch"])
async def test_deep_nesting_is_refused_after_authentication_and_never_a_500(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, url: str
) -> None:
    json_headers = {"Content-Type": "application/json"}
    bomb = b"[" * 1000  # 1 KB that the parser would recurse into, as deep as the interpreter allows
    anonymous = await api_client.post(url, content=bomb, headers=json_headers)
    assert anonymous.status_code == 401
    known = await api_client.post(url, content=bomb, headers={**BASIC, **json_headers})
    assert known.status_code == 400
    assert known.json()["message"] == "body: objects and arrays nest deeper than 64 levels"
    # Deep but parseable: refused at the limit, not later by whatever walks it.
    nested: dict[str, Any] = {"userId": "u", "event": "e", "properties": {}}
    inner = nested["properties"]
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    body = {"batch": [{**nested, "type": "track"}]} if url == "/v1/batch" else nested
    deep = await api_client.post(url, json=body, headers=BASIC)
    assert deep.status_code == 400
    assert "64 levels" in deep.json()["message"]
    shallow = {**nested, "properties": {"a": {"b": {"c": [1, [2, [3]]]}}}}
    ok = await api_client.post("/v1/track", json=shallow, headers=BASIC)
    assert ok.status_code == 200
    assert await counts(db_engine) == (1, 1, 1, 1)


async def test_size_limits(api_client: httpx.AsyncClient, db_engine: AsyncEngine) -> None:
    big = {"userId": "u", "event": "e", "properties": {"blob": "x" * 33_000}}
    single = await api_client.post("/v1/track", json=big, headers=BASIC)
    assert single.status_code == 413
    assert "limit is 32 KB" in single.json()["message"]
    huge_batch = {
        "batch": [{"type": "track", "userId": "u", "event": "e", "properties": {"b": "x" * 20_000}}] * 30
    }
    assert (await api_client.post("/v1/batch", json=huge_batch, headers=BASIC)).status_code == 413
    assert await counts(db_engine) == (0, 0, 0, 0)


async def test_batch_keeps_valid_items_and_reports_invalid_ones_by_index(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "a", "messageId": "b-0"},
            {"type": "track", "userId": "u1", "messageId": "b-1"},
            {"type": "teleport", "userId": "u1", "messageId": "b-2"},
            {
                "type": "track",
                "userId": "u1",
                "event": "big",
                "messageId": "b-3",
                "properties": {"x": "y" * 33_000},
            },
            {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "b-4"},
            {"type": "track", "userId": "u1", "event": "a", "messageId": "b-5", "context": {"ip\x00": 1}},
        ]
    }
    response = await api_client.post("/v1/batch", json=batch, headers=BASIC)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], [r["index"] for r in body["rejected"]]) == (2, [1, 2, 3, 5])
    assert body["rejected"][0]["problems"] == [{"path": "batch[1]", "message": "a track call needs `event`"}]
    assert body["rejected"][1]["problems"][0]["path"] == "batch[2].type"
    assert body["rejected"][3]["problems"][0]["path"] == "batch[5].context.ip\\u0000"
    assert await rows(db_engine, "SELECT message_id FROM events ORDER BY id") == [("b-0",), ("b-4",)]

    again = await api_client.post("/v1/import", json=batch, headers=BASIC)  # /v1/import is batch
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
    assert await counts(db_engine) == (2, 2, 1, 1)


async def test_a_batch_with_nothing_valid_is_answered_and_writes_nothing(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    batch = {"batch": [{"type": "track", "userId": "u1"}, {"type": "teleport", "userId": "u1"}]}
    response = await api_client.post("/v1/batch", json=batch, headers=BASIC)
    assert response.status_code == 200
    assert (response.json()["accepted"], len(response.json()["rejected"])) == (0, 2)
    assert await counts(db_engine) == (0, 0, 0, 0)


async def test_gzipped_batch(api_client: httpx.AsyncClient) -> None:
    payload = gzip.compress(
        json.dumps({"batch": [{"type": "track", "anonymousId": "g", "event": "e"}]}).encode()
    )
    response = await api_client.post(
        "/v1/batch",
        content=payload,
        headers={**BASIC, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.json()["accepted"] == 1


async def test_sent_at_corrects_the_device_clock(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    """The device clock is a year off, but the event happened 10 s before the device sent it."""
    body = {
        "userId": "u",
        "event": "e",
        "timestamp": "2025-01-01T00:00:00Z",
        "sentAt": "2025-01-01T00:00:10Z",
    }
    await api_client.post("/v1/track", json=body, headers=BASIC)
    [(lag,)] = await rows(db_engine, "SELECT extract(epoch FROM (received_at - timestamp)) FROM events")
    assert 9.0 < float(lag) < 11.0


async def test_identify_merges_traits_and_links_the_visitor(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    await api_client.post("/v1/page", json={"anonymousId": "visitor-7", "name": "Pricing"}, headers=BASIC)
    await api_client.post(
        "/v1/identify",
        json={
            "anonymousId": "visitor-7",
            "userId": "kim",
            "traits": {"email": "kim@example.com", "timezone": "Europe/Paris"},
        },
        headers=BASIC,
    )
    await api_client.post("/v1/identify", json={"userId": "kim", "traits": {"plan": "pro"}}, headers=BASIC)
    profile = (await api_client.get("/api/profiles/kim", headers=ADMIN)).json()
    assert profile["id"] == "anon-visitor-7"  # the visitor's profile, now known as kim
    assert profile["traits"] == {"email": "kim@example.com", "timezone": "Europe/Paris", "plan": "pro"}
    assert profile["timezone"] == "Europe/Paris"
    assert {(i["kind"], i["value"]) for i in profile["identities"]} == {
        ("anonymous_id", "visitor-7"),
        ("user_id", "kim"),
    }
    assert [e["name"] for e in profile["recent_events"]][-1] == "page"
    assert profile["signals"]["engagement_score"] > 0


async def test_a_known_user_absorbs_an_anonymous_profile(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    await api_client.post(
        "/v1/track",
        json={"userId": "lee", "event": "order_completed", "properties": {"revenue": 30}},
        headers=BASIC,
    )
    await api_client.post("/v1/track", json={"anonymousId": "phone", "event": "cart_updated"}, headers=BASIC)
    await api_client.post("/v1/alias", json={"previousId": "phone", "userId": "lee"}, headers=BASIC)
    profile = (await api_client.get("/api/profiles/phone", headers=ADMIN)).json()
    assert profile["id"] == "lee"
    assert profile["merged_profiles"] == ["anon-phone"]
    assert sorted(e["name"] for e in profile["recent_events"]) == ["alias", "cart_updated", "order_completed"]
    assert profile["signals"]["lifetime_value"] == 30


async def test_a_batch_of_new_and_merging_people_resolves_as_if_sent_one_by_one(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    await api_client.post("/v1/track", json={"userId": "max", "event": "signed_up"}, headers=BASIC)
    await api_client.post("/v1/track", json={"anonymousId": "tab", "event": "viewed"}, headers=BASIC)
    batch = [
        {"type": "track", "anonymousId": "tab", "event": "viewed", "messageId": "before-merge"},
        {"type": "identify", "userId": "max", "anonymousId": "tab"},  # merges anon-tab into max
        {"type": "track", "userId": "new-1", "event": "e"},
        {"type": "track", "anonymousId": "v2", "event": "e"},
        {"type": "identify", "userId": "new-2", "anonymousId": "v2", "traits": {"plan": "pro"}},
        {"type": "track", "userId": "new-1", "anonymousId": "v3", "event": "e"},
    ]
    response = await api_client.post("/v1/batch", json={"batch": batch}, headers=BASIC)
    assert response.json()["accepted"] == 6
    assert await rows(db_engine, "SELECT kind, value, profile_id FROM identities ORDER BY kind, value") == [
        ("anonymous_id", "tab", "max"),
        ("anonymous_id", "v2", "anon-v2"),
        ("anonymous_id", "v3", "new-1"),
        ("user_id", "max", "max"),
        ("user_id", "new-1", "new-1"),
        ("user_id", "new-2", "anon-v2"),
    ]
    # The visitor's event sent before the identify in the same batch belongs to the survivor, and is
    # routed as hers.
    assert await rows(
        db_engine,
        "SELECT e.profile_id, o.profile_id FROM events e JOIN outbox o ON o.event_id = e.id"
        " WHERE e.message_id = 'before-merge'",
    ) == [("max", "max")]
    assert await rows(db_engine, "SELECT id, merged_into, traits FROM profiles ORDER BY id") == [
        ("anon-tab", "max", {}),
        ("anon-v2", None, {"plan": "pro"}),
        ("max", None, {}),
        ("new-1", None, {}),
    ]


async def test_custom_signals(api_client: httpx.AsyncClient) -> None:
    declared = await api_client.put(
        "/api/signals/carts_30d",
        json={"kind": "count", "event": "cart_updated", "window": "30d"},
        headers=ADMIN,
    )
    assert declared.status_code == 200
    last_plan = {"kind": "last", "event": "plan_changed", "property": "plan"}
    assert (await api_client.put("/api/signals/last_plan", json=last_plan, headers=ADMIN)).status_code == 200
    bad = await api_client.put("/api/signals/total", json={"kind": "sum", "event": "x"}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["message"] == "`sum` needs a `property` to aggregate"
    for event in (
        {"event": "cart_updated"},
        {"event": "cart_updated"},
        {"event": "plan_changed", "properties": {"plan": "team"}},
    ):
        await api_client.post("/v1/track", json={"userId": "sig", **event}, headers=BASIC)
    signals = (await api_client.get("/api/profiles/sig", headers=ADMIN)).json()["signals"]
    assert (signals["carts_30d"], signals["last_plan"]) == (2, "team")
    live = (await api_client.get("/api/profiles/sig/signals", headers=ADMIN)).json()["signals"]
    assert (live["carts_30d"], live["last_plan"], live["orders_count"]) == (2, "team", 0)
    named = await api_client.get("/api/profiles/sig/signals?names=last_plan,orders_count", headers=ADMIN)
    assert named.json()["signals"] == {"last_plan": "team", "orders_count": 0}
    journey = {
        "key": "uses-custom",
        "name": "x",
        "entry": {"event": "e"},
        "start": "b",
        "nodes": {
            "b": {
                "type": "branch",
                "cases": [{"when": {"signal": "carts_30d", "op": "gte", "value": 2}, "next": "d"}],
                "default": "d",
            },
            "d": {"type": "exit"},
        },
    }
    assert (await api_client.post("/api/journeys/validate", json=journey, headers=ADMIN)).json()[
        "valid"
    ] is True


async def test_erasing_a_profile(api_client: httpx.AsyncClient, db_engine: AsyncEngine) -> None:
    await api_client.post(
        "/v1/identify", json={"userId": "gone", "traits": {"email": "g@example.com"}}, headers=BASIC
    )
    await api_client.post("/v1/track", json={"userId": "gone", "event": "e"}, headers=BASIC)
    response = await api_client.delete("/api/profiles/gone", headers=ADMIN)
    assert response.json() == {"enrollments_exited": 0}
    assert (await api_client.get("/api/profiles/gone", headers=ADMIN)).status_code == 404
    assert await counts(db_engine) == (0, 0, 0, 0)
