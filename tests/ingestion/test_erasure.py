"""Erasure that erases: after DELETE /api/profiles/{id}, no table and no Temporal execution holds any
of the person's identifiers or trait values, and the experiment's counts are what they were."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from engine.enrollments.pseudonyms import person_key
from engine.settings import Settings
from tests.ingestion.conftest import ADMIN, WRITE, Stack, eventually
from tests.support.crm import CrmStandIn

JOURNEY = """
key: trial-welcome
name: Trial welcome
entry: {event: trial_started, correlate: properties.cart_id}
goal:
  event: order_completed
  within: 3d
  value: properties.revenue
  match: {properties.cart_id: {entry: properties.cart_id}}
  exit: true
start: offer
nodes:
  offer:
    type: split
    control: plain
    variants:
      - {name: plain, weight: 50, next: tell_crm}
      - {name: bold, weight: 50, next: tell_crm}
  tell_crm:
    type: webhook
    method: POST
    url: CRM/hooks/trial
    body:
      email: "{{ profile.traits.email | default('') }}"
      cart: "{{ entry.properties.cart_id }}"
    next: wait_order
  wait_order:
    type: wait_for_event
    event: order_completed
    match: {properties.cart_id: {entry: properties.cart_id}}
    timeout: 2d
    on_event: done
    on_timeout: done
  done: {type: exit}
"""


def _id(kind: str) -> str:
    return f"{kind}{uuid.uuid4().hex[:12]}"


async def _every_row(stack: Stack) -> list[str]:
    tables = await stack.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_type = 'BASE TABLE'"
    )
    rows: list[str] = []
    for (table,) in tables:
        rows += [f"{table}: {row}" for (row,) in await stack.sql(f'SELECT t::text FROM "{table}" t')]
    return rows


async def _gone(temporal: Client, workflow_id: str) -> bool:
    try:
        await temporal.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        return error.status == RPCStatusCode.NOT_FOUND
    return False


async def test_erasure_leaves_nothing_that_names_the_person(
    stack: Stack, crm: CrmStandIn, temporal_client: Client, settings: Settings
) -> None:
    published = await stack.api.post(
        "/api/journeys/trial-welcome/publish",
        content=JOURNEY.replace("CRM", crm.url),
        headers={**ADMIN, "Content-Type": "application/yaml"},
    )
    assert published.status_code == 201, published.text
    user, visitor, email, name = _id("user"), _id("visitor"), f"{_id('mail')}@example.com", _id("Name")
    first_cart, second_cart = _id("cart"), _id("cart")

    async def send(path: str, body: dict[str, Any]) -> None:
        response = await stack.api.post(path, json=body, headers=WRITE)
        assert response.status_code == 200, response.text

    # A visitor starts a trial, then logs in as a known user (their profiles merge), then starts another.
    await send("/v1/track", {"userId": user, "event": "page_viewed", "properties": {"contact": email}})
    await send(
        "/v1/track",
        {"anonymousId": visitor, "event": "trial_started", "properties": {"cart_id": first_cart}},
    )
    await eventually(stack.drained)
    await send(
        "/v1/identify",
        {"userId": user, "anonymousId": visitor, "traits": {"email": email, "first_name": name}},
    )
    await send(
        "/v1/track", {"userId": user, "event": "trial_started", "properties": {"cart_id": second_cart}}
    )
    await eventually(lambda: _true(len(crm.received) >= 2))
    # The first trial converts (its workflow closes); the second still waits.
    await send(
        "/v1/track",
        {"userId": user, "event": "order_completed", "properties": {"cart_id": first_cart, "revenue": 9}},
    )

    async def statuses() -> list[tuple[Any, ...]]:
        rows = await stack.sql(
            "SELECT e.status FROM enrollments e JOIN journeys j ON j.id = e.journey_id"
            " WHERE j.key = 'trial-welcome' ORDER BY e.status"
        )
        return rows if rows == [("active",), ("exited:goal",)] else []

    await eventually(statuses)
    workflow_ids = [
        wid
        for (wid,) in await stack.sql(
            "SELECT workflow_id FROM enrollments WHERE profile_id IN (:user, :visitor)",
            user=user,
            visitor=f"anon-{visitor}",
        )
    ]
    assert len(workflow_ids) == 2
    report = (await stack.api.get("/api/journeys/trial-welcome/report", headers=ADMIN)).json()
    identifiers = [user, visitor, email, name, first_cart, second_cart]
    assert any(email in row for row in await _every_row(stack))  # the search can find them

    erased = await stack.api.delete(f"/api/profiles/{user}", headers=ADMIN)
    assert erased.json() == {"enrollments_exited": 1}

    leftovers = [row for row in await _every_row(stack) if any(i in row for i in identifiers)]
    assert leftovers == []
    for workflow_id in workflow_ids:
        assert not any(i in workflow_id for i in identifiers)
        # A closed run goes once the dev server has processed its closing: about half a minute.
        await eventually(partial(_gone, temporal_client, workflow_id), patience=90)
    for profile_id in (user, f"anon-{visitor}"):
        key = person_key(settings.link_secret, profile_id)
        found = [e.id async for e in temporal_client.list_workflows(f"PersonKey = '{key}'")]
        assert found == []
    after = (await stack.api.get("/api/journeys/trial-welcome/report", headers=ADMIN)).json()
    assert after["splits"] == report["splits"]
    assert after["splits"][0]["variants"], "the split's counts are there to compare"


async def _true(value: bool) -> bool:
    return value
