"""The admin API for journeys, over HTTP (in-process ASGI) against the real test database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.journeys.bundled import EXAMPLES, example_journeys

ADMIN = {"Authorization": "Bearer test-admin-token"}
YAML = {**ADMIN, "Content-Type": "application/yaml"}
EXAMPLE_FILES = example_journeys()
WRONG_TYPES = (
    "key: abandoned-cart\nname: 42\nentry: {event: 7}\nstart: a\nnodes: {a: {type: exit}}\nholdout: lots\n"
)


async def row_counts(db_engine: AsyncEngine) -> tuple[int, int]:
    async with db_engine.connect() as connection:
        journeys = (await connection.execute(text("SELECT count(*) FROM journeys"))).scalar_one()
        versions = (await connection.execute(text("SELECT count(*) FROM journey_versions"))).scalar_one()
    return journeys, versions


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.yaml").read_text()


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
async def test_reference_journeys_validate_and_publish(api_client: httpx.AsyncClient, path: Path) -> None:
    key = path.stem
    validation = await api_client.post("/api/journeys/validate", content=path.read_bytes(), headers=YAML)
    assert validation.json() == {"valid": True, "problems": [], "warnings": []}

    first = await api_client.post(f"/api/journeys/{key}/publish", content=path.read_bytes(), headers=YAML)
    assert first.status_code == 201, first.text
    assert first.json() == {"key": key, "version": 1, "created": True, "status": "live", "warnings": []}

    # The same content again, even re-encoded as JSON, is a no-op.
    as_json = json.dumps(yaml.safe_load(path.read_text()))
    again = await api_client.post(
        f"/api/journeys/{key}/publish", content=as_json, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert again.status_code == 200
    assert again.json() == {"key": key, "version": 1, "created": False, "status": "live", "warnings": []}
    detail = (await api_client.get(f"/api/journeys/{key}", headers=ADMIN)).json()
    assert [v["version"] for v in detail["versions"]] == [1]


async def test_a_changed_definition_becomes_version_2_and_version_1_stays_readable(
    api_client: httpx.AsyncClient,
) -> None:
    original = example("abandoned-cart")
    changed = original.replace("timeout: 1h", "timeout: 2h")
    assert changed != original
    await api_client.post("/api/journeys/abandoned-cart/publish", content=original, headers=YAML)
    second = await api_client.post(
        "/api/journeys/abandoned-cart/publish", content=changed, headers={**YAML, "X-Author": "ann"}
    )
    assert second.status_code == 201
    assert second.json()["version"] == 2

    v1 = (await api_client.get("/api/journeys/abandoned-cart/versions/1", headers=ADMIN)).json()
    v2 = (await api_client.get("/api/journeys/abandoned-cart/versions/2", headers=ADMIN)).json()
    assert v1["definition"]["nodes"]["wait_purchase"]["timeout"] == "1h"
    assert v2["definition"]["nodes"]["wait_purchase"]["timeout"] == "2h"
    assert v2["author"] == "ann"
    assert v1["checksum"] != v2["checksum"]

    diff = (await api_client.get("/api/journeys/abandoned-cart/diff?from=1&to=2", headers=ADMIN)).json()
    assert diff["changes"] == [{"path": "nodes.wait_purchase.timeout", "before": "1h", "after": "2h"}]
    assert "-    timeout: 1h\n+    timeout: 2h\n" in diff["unified"]

    listed = (await api_client.get("/api/journeys", headers=ADMIN)).json()
    assert [(j["key"], j["latest_version"], j["status"]) for j in listed] == [("abandoned-cart", 2, "live")]


async def test_invalid_definition_is_refused_with_every_problem_and_writes_nothing(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    broken = (
        example("abandoned-cart")
        .replace("next: notify_crm", "next: nowhere")
        .replace("timeout: 1h", "timeout: 1hr")
    )
    response = await api_client.post("/api/journeys/abandoned-cart/publish", content=broken, headers=YAML)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    problems = {(p["path"], p["message"]) for p in body["problems"]}
    assert ("nodes.reminder_high_value.next", "no node named 'nowhere'") in problems
    assert ("nodes.discount_email.next", "no node named 'nowhere'") in problems
    assert any(p == "nodes.wait_purchase.timeout" for p, _ in problems)
    assert await row_counts(db_engine) == (0, 0)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message_start"),
    [
        ("key: x\nnodes: [a, b\n", "application/yaml", 400, "invalid YAML: line 3 column 1:"),
        ('{"key": "x",}', "application/json", 400, "invalid JSON: line 1 column 13: Expecting property name"),
        (
            "a: &x [1]\nb: *x\n",
            "application/yaml",
            400,
            "invalid YAML: line 2 column 4: aliases (*name) are not allowed",
        ),
        ("key: x", "text/csv", 415, "unsupported content type 'text/csv'"),
        ("- just\n- a list\n", "application/yaml", 422, "a journey definition must be a mapping (an object)"),
        (
            WRONG_TYPES,
            "application/yaml",
            422,
            "",
        ),
    ],
    ids=["bad yaml", "bad json", "yaml alias", "content type", "not a mapping", "wrong types"],
)
async def test_malformed_bodies_get_precise_4xx_and_write_nothing(
    api_client: httpx.AsyncClient,
    db_engine: AsyncEngine,
    body: str,
    content_type: str,
    status: int,
    message_start: str,
) -> None:
    response = await api_client.post(
        "/api/journeys/abandoned-cart/publish", content=body, headers={**ADMIN, "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.json()["message"].startswith(message_start)
    assert await row_counts(db_engine) == (0, 0)


async def test_an_empty_body_is_refused(api_client: httpx.AsyncClient) -> None:
    response = await api_client.post("/api/journeys/validate", content=b"  \n", headers=YAML)
    assert response.status_code == 400
    assert (
        response.json()["message"] == "the request body is empty: send a journey definition as JSON or YAML"
    )


async def test_wrong_types_name_their_paths(api_client: httpx.AsyncClient) -> None:
    body = WRONG_TYPES
    response = await api_client.post("/api/journeys/validate", content=body, headers=YAML)
    assert response.status_code == 200
    problems = {(p["path"], p["message"]) for p in response.json()["problems"]}
    assert problems == {
        ("name", "Input should be a valid string"),
        ("entry.event", "Input should be a valid string"),
        ("holdout", "Input should be a valid integer, unable to parse string as an integer"),
    }


async def test_a_1_mb_body_is_refused_and_writes_nothing(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    huge = example("abandoned-cart") + "\n# " + "x" * 1_000_000 + "\n"
    response = await api_client.post("/api/journeys/abandoned-cart/publish", content=huge, headers=YAML)
    assert response.status_code == 413
    assert await row_counts(db_engine) == (0, 0)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Basic dXNlcjpwYXNz"}, 401), ({"Authorization": "Bearer wrong"}, 403)],
    ids=["no token", "wrong scheme", "wrong token"],
)
async def test_admin_api_needs_the_admin_token(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, headers: dict[str, str], status: int
) -> None:
    response = await api_client.post(
        "/api/journeys/abandoned-cart/publish",
        content=example("abandoned-cart"),
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert response.status_code == status
    assert (await api_client.get("/api/journeys", headers=headers)).status_code == status
    assert await row_counts(db_engine) == (0, 0)


async def test_drafts_keep_work_in_progress_and_publish_later(api_client: httpx.AsyncClient) -> None:
    unfinished = example("onboarding").replace("next: wait_project\n", "next: wait_projekt\n", 1)
    saved = await api_client.put("/api/journeys/onboarding/draft", content=unfinished, headers=YAML)
    assert saved.status_code == 200
    assert saved.json()["status"] == "draft"
    assert {"path": "nodes.welcome.next", "message": "no node named 'wait_projekt'"} in saved.json()[
        "problems"
    ]
    refused = await api_client.post("/api/journeys/onboarding/publish", headers=ADMIN)
    assert refused.status_code == 422

    await api_client.put("/api/journeys/onboarding/draft", content=example("onboarding"), headers=YAML)
    published = await api_client.post("/api/journeys/onboarding/publish", headers=ADMIN)
    assert published.status_code == 201
    assert published.json()["version"] == 1
    detail = (await api_client.get("/api/journeys/onboarding", headers=ADMIN)).json()
    assert detail["draft"] is None
    assert detail["definition"]["start"] == "welcome"


async def test_the_key_in_the_body_must_match_the_url(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    response = await api_client.post(
        "/api/journeys/onboarding/publish", content=example("churn-rescue"), headers=YAML
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"path": "key", "message": "'churn-rescue' does not match the key in the URL ('onboarding')"}
    ]
    assert await row_counts(db_engine) == (0, 0)


async def test_lifecycle_pause_resume_archive(api_client: httpx.AsyncClient) -> None:
    await api_client.post("/api/journeys/churn-rescue/publish", content=example("churn-rescue"), headers=YAML)
    assert (await api_client.post("/api/journeys/churn-rescue/pause", headers=ADMIN)).json()[
        "status"
    ] == "paused"
    again = await api_client.post("/api/journeys/churn-rescue/pause", headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["message"] == "cannot pause journey 'churn-rescue': it is paused"
    assert (await api_client.post("/api/journeys/churn-rescue/resume", headers=ADMIN)).json()[
        "status"
    ] == "live"
    assert (await api_client.post("/api/journeys/churn-rescue/archive", headers=ADMIN)).json()[
        "status"
    ] == "archived"
    republish = await api_client.post(
        "/api/journeys/churn-rescue/publish",
        content=example("churn-rescue").replace("timeout: 7d", "timeout: 8d"),
        headers=YAML,
    )
    assert republish.status_code == 409
    paused_only = (await api_client.get("/api/journeys?status=paused", headers=ADMIN)).json()
    assert paused_only == []


async def test_unknown_journey_and_version_are_404(api_client: httpx.AsyncClient) -> None:
    assert (await api_client.get("/api/journeys/nope", headers=ADMIN)).status_code == 404
    await api_client.post("/api/journeys/onboarding/publish", content=example("onboarding"), headers=YAML)
    missing = await api_client.get("/api/journeys/onboarding/versions/9", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["message"] == "journey 'onboarding' has no version 9"


async def test_openapi_documents_the_journey_language(api_client: httpx.AsyncClient) -> None:
    spec = (await api_client.get("/openapi.json")).json()
    assert "JourneyDefinition" in spec["components"]["schemas"]
    publish = spec["paths"]["/api/journeys/{key}/publish"]["post"]
    assert set(publish["requestBody"]["content"]) == {"application/json", "application/yaml"}


async def test_racing_publishes_of_the_same_content_create_one_version(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    body = example("abandoned-cart")
    responses = await asyncio.gather(
        *(
            api_client.post("/api/journeys/abandoned-cart/publish", content=body, headers=YAML)
            for _ in range(6)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert await row_counts(db_engine) == (1, 1)


async def test_definitions_of_the_wrong_shapes_are_problems_never_a_500(
    api_client: httpx.AsyncClient,
) -> None:
    # Found by the fuzz pass (tests/test_fuzz_api.py): a condition's `op` or a variant's `name` that is
    # an object crashed the semantic checks.
    document = {
        "key": "odd",
        "name": "Odd",
        "entry": {"event": "go", "when": {"all": [{"field": "event.x", "op": {"no": 1}, "value": 1}]}},
        "start": "s",
        "nodes": {
            "s": {"type": "split", "variants": [{"name": {"a": 1}, "weight": 100, "next": "e"}]},
            "e": {"type": "exit"},
        },
    }
    response = await api_client.post("/api/journeys/validate", json=document, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["problems"]


async def test_a_body_that_is_not_json_gets_the_one_error_shape(api_client: httpx.AsyncClient) -> None:
    response = await api_client.post(
        "/api/journeys/abandoned-cart/enrollments",
        content=b"\xff\xfe not json",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    body = response.json()
    assert set(body) >= {"error", "message"}
