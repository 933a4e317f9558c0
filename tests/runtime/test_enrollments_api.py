"""The enrollments API over HTTP, with a real worker on the dev server behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.journeys.bundled import EXAMPLES, example_templates
from engine.settings import Settings
from runtime.worker import build_worker

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
async def api(
    api_client: httpx.AsyncClient,
    temporal_dev: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    for name, template in example_templates().items():
        assert (
            await api_client.put(f"/api/templates/{name}", json=template, headers=ADMIN)
        ).status_code == 200
    body = (EXAMPLES / "onboarding.yaml").read_bytes()
    published = await api_client.post(
        "/api/journeys/onboarding/publish",
        content=body,
        headers={**ADMIN, "Content-Type": "application/yaml"},
    )
    assert published.status_code == 201
    async with httpx.AsyncClient() as http, build_worker(temporal_dev.client, settings, sessionmaker, http):
        yield api_client


async def eventually(api: httpx.AsyncClient, url: str, check: Any) -> Any:
    for _ in range(100):
        body = (await api.get(url, headers=ADMIN)).json()
        if check(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url}: {body}")


async def test_enroll_inspect_and_exit(api: httpx.AsyncClient) -> None:
    identified = await api.post(
        "/v1/identify",
        json={"userId": "web", "traits": {"email": "web@example.com"}},
        headers={"Authorization": "Bearer test-write-key"},
    )
    assert identified.status_code == 200
    response = await api.post(
        "/api/journeys/onboarding/enrollments", json={"profile_id": "web"}, headers=ADMIN
    )
    assert response.status_code == 202
    started = response.json()
    assert started["workflow_id"].startswith("journey:onboarding:")
    assert "web" not in started["workflow_id"].removeprefix("journey:onboarding:")  # a pseudonym
    assert started["started"] is True
    enrollment_url = f"/api/enrollments/{started['enrollment_id']}"

    detail = await eventually(api, enrollment_url, lambda b: b.get("live") and b["live"]["waiting_for"])
    assert detail["status"] == "active"
    assert detail["live"]["node"] == "wait_project"
    assert detail["live"]["waiting_for"] == "event: project_created"
    assert [s["node_id"] for s in detail["steps"]] == ["welcome", "wait_project"]
    assert detail["deliveries"][0]["payload"]["subject"] == "Welcome aboard, friend"

    listed = (await api.get("/api/journeys/onboarding/enrollments?status=active", headers=ADMIN)).json()
    assert [e["id"] for e in listed] == [started["enrollment_id"]]
    mine = (await api.get("/api/profiles/web/enrollments", headers=ADMIN)).json()
    assert [(e["journey"], e["current_node"]) for e in mine] == [("onboarding", "wait_project")]

    assert (await api.post(f"{enrollment_url}/exit", headers=ADMIN)).status_code == 202
    ended = await eventually(api, enrollment_url, lambda b: b["status"] != "active")
    assert ended["status"] == "exited:operator"
    again = await api.post(f"{enrollment_url}/exit", headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["message"] == f"enrollment '{started['enrollment_id']}' is already exited:operator"


@pytest.mark.parametrize(
    ("url", "body", "status", "path"),
    [
        ("/api/journeys/onboarding/enrollments", {"profile_id": "x", "event": "cart_updated"}, 422, "event"),
        ("/api/journeys/onboarding/enrollments", {"profile_id": ""}, 422, "body.profile_id"),
        ("/api/journeys/onboarding/enrollments", {"profile": "x"}, 422, "body.profile_id"),
        ("/api/journeys/nope/enrollments", {"profile_id": "x"}, 404, None),
    ],
    ids=["wrong entry event", "empty profile", "misspelled field", "unknown journey"],
)
async def test_bad_enrollment_requests(
    api: httpx.AsyncClient, url: str, body: dict[str, Any], status: int, path: str | None
) -> None:
    response = await api.post(url, json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    if path is not None:
        assert path in [p["path"] for p in response.json()["problems"]]
    assert (await api.get("/api/profiles/x/enrollments", headers=ADMIN)).status_code == 404  # nobody made


async def test_a_paused_journey_takes_no_entries(api: httpx.AsyncClient) -> None:
    await api.post("/api/journeys/onboarding/pause", headers=ADMIN)
    response = await api.post(
        "/api/journeys/onboarding/enrollments", json={"profile_id": "late"}, headers=ADMIN
    )
    assert response.status_code == 409
    assert response.json()["message"] == "journey 'onboarding' is paused: it takes no new entries"


async def test_enrollments_need_the_admin_token(api: httpx.AsyncClient) -> None:
    assert (
        await api.post("/api/journeys/onboarding/enrollments", json={"profile_id": "x"})
    ).status_code == 401
    assert (await api.get("/api/enrollments/whatever")).status_code == 401
