from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.journeys.bundled import EXAMPLES, example_templates
from engine.outbox.dispatcher import Dispatcher, running_dispatcher
from engine.settings import Settings
from runtime.worker import build_worker
from tests.support.crm import CrmStandIn

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}


async def publish_examples(api: httpx.AsyncClient, crm_url: str) -> None:
    for name, template in example_templates().items():
        await api.put(f"/api/templates/{name}", json=template, headers=ADMIN)
    for key in ("abandoned-cart", "onboarding", "churn-rescue"):
        body = (EXAMPLES / f"{key}.yaml").read_text().replace("https://crm.example.com", crm_url)
        response = await api.post(
            f"/api/journeys/{key}/publish",
            content=body,
            headers={**ADMIN, "Content-Type": "application/yaml"},
        )
        assert response.status_code == 201, response.text


async def eventually(check: Callable[[], Awaitable[Any]], patience: float = 30) -> Any:
    """Polls until `check` returns something truthy (routing and workflows are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened; last value: {value!r}")
        await asyncio.sleep(0.05)


@dataclass
class Stack:
    api: httpx.AsyncClient
    db: AsyncEngine
    dispatcher: Dispatcher

    async def sql(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.db.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query), params)]

    async def drained(self) -> bool:
        [(pending,)] = await self.sql("SELECT count(*) FROM outbox WHERE processed_at IS NULL")
        return bool(pending == 0)


@asynccontextmanager
async def event_path(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    temporal: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm_url: str,
    **dispatcher_options: float,
) -> AsyncIterator[Stack]:
    """API + worker + dispatcher on the dev server: the whole event path, in one process."""
    await publish_examples(api, crm_url)
    dispatcher = Dispatcher(settings, sessionmaker, temporal.client, **dispatcher_options)
    async with (
        httpx.AsyncClient() as http,
        build_worker(temporal.client, settings, sessionmaker, http),
        running_dispatcher(dispatcher),
    ):
        yield Stack(api, db, dispatcher)


@pytest.fixture
async def stack(
    api_client: httpx.AsyncClient,
    db_engine: AsyncEngine,
    temporal_dev: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm: CrmStandIn,
) -> AsyncIterator[Stack]:
    async with event_path(api_client, db_engine, temporal_dev, settings, sessionmaker, crm.url) as stack:
        yield stack
