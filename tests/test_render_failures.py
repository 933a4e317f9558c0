"""A template that cannot render for someone (a trait they lack) is warned about when saved and published,
and when it fails anyway the failure is recorded on the delivery, counted on the worker's metrics and
listed in the journey's report: nobody silently gets nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.messaging import MessagingActivities
from engine.enrollments.contracts import EventEnvelope, SendInput
from engine.journeys.bundled import EXAMPLES
from engine.settings import Settings
from runtime.devstack.ports import free_port

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GREETING = "Hello {{ profile.traits.first_name }}, your cart: {{ profile.traits.city | default('') }}"


async def test_a_trait_without_default_is_warned_about_when_saved_and_published(
    api_client: httpx.AsyncClient,
) -> None:
    saved = await api_client.put("/api/templates/cart_reminder", json={"body": GREETING}, headers=ADMIN)
    assert saved.status_code == 200
    assert saved.json()["warnings"] == [
        "template 'cart_reminder' line 1: profile.traits.first_name has no default; people without it get"
        " no message (write {{ profile.traits.first_name | default('…') }})"
    ]
    await api_client.put("/api/templates/cart_discount", json={"body": "{{ profile.id }}"}, headers=ADMIN)
    yaml = (EXAMPLES / "abandoned-cart.yaml").read_text()
    headers = {**ADMIN, "Content-Type": "application/yaml"}
    checked = await api_client.post("/api/journeys/validate", content=yaml, headers=headers)
    assert checked.json()["valid"] is True
    paths = [w["path"] for w in checked.json()["warnings"]]
    assert paths == ["nodes.reminder.template", "nodes.reminder_high_value.template"]
    published = await api_client.post("/api/journeys/abandoned-cart/publish", content=yaml, headers=headers)
    assert published.status_code == 201
    assert len(published.json()["warnings"]) == 2


async def test_a_failed_render_is_recorded_counted_and_reported(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await api_client.put("/api/templates/cart_reminder", json={"body": GREETING}, headers=ADMIN)
    await api_client.put("/api/templates/cart_discount", json={"body": "{{ profile.id }}"}, headers=ADMIN)
    yaml = (EXAMPLES / "abandoned-cart.yaml").read_text()
    headers = {**ADMIN, "Content-Type": "application/yaml"}
    assert (
        await api_client.post("/api/journeys/abandoned-cart/publish", content=yaml, headers=headers)
    ).is_success
    identify = {"userId": "nameless", "traits": {"email": "n@example.com"}}  # no first_name
    assert (await api_client.post("/v1/identify", json=identify, headers=WRITE)).status_code == 200

    port = free_port()
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}")))
    environment = ActivityEnvironment()
    environment.metric_meter = runtime.metric_meter
    activities = MessagingActivities(sessionmaker, httpx.AsyncClient(), settings)
    send = SendInput(
        enrollment_id="enr-nameless",
        journey_key="abandoned-cart",
        node_id="reminder",
        visit=1,
        profile_id="nameless",
        channel="email",
        template="cart_reminder",
        variant={},
        entry=EventEnvelope(id="e", name="cart_updated", profile_id="nameless", timestamp=NOW),
        event=None,
        as_of=NOW,
    )
    with pytest.raises(ApplicationError) as raised:
        await environment.run(activities.send_message, send)
    assert raised.value.non_retryable
    assert "'dict object' has no attribute 'first_name'" in raised.value.message
    # A retry of the step finds the recorded failure: the same answer, nothing sent, counted once.
    with pytest.raises(ApplicationError):
        await environment.run(activities.send_message, send)

    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    [count] = [
        line.rsplit(" ", 1)[1]
        for line in metrics.splitlines()
        if line.startswith("journeys_render_failures{") and 'template="cart_reminder"' in line
    ]
    assert float(count) == 1

    report = (await api_client.get("/api/journeys/abandoned-cart/report", headers=ADMIN)).json()
    [failed] = report["failed_deliveries"]
    assert (failed["template"], failed["count"]) == ("cart_reminder", 1)
    assert failed["reason"].startswith("render failed: template 'cart_reminder':")
