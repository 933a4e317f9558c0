from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine import search_attributes
from engine.settings import Settings
from runtime.devstack.postgres import EmbeddedPostgres
from runtime.worker import build_worker
from tests.runtime.harness import Harness
from tests.support.crm import CrmStandIn, crm_stand_in


@pytest.fixture(scope="session")
async def time_skipping(temporal_time_skipping: WorkflowEnvironment) -> WorkflowEnvironment:
    await search_attributes.register(temporal_time_skipping.client, "default")
    return temporal_time_skipping


@pytest.fixture
def crm() -> Iterator[CrmStandIn]:
    with crm_stand_in() as server:
        yield server


@pytest.fixture
def runtime_settings(migrated: EmbeddedPostgres, tmp_path: Path) -> Settings:
    return Settings(
        database_url=migrated.url,
        task_queue=f"runtime-{tmp_path.name}",
        default_timezone="UTC",
        webhook_secret="test-secret",
        webhook_allowed_hosts=["127.0.0.1"],  # the local CRM stand-in
    )


@asynccontextmanager
async def running_harness(
    env: WorkflowEnvironment, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, crm_url: str
) -> AsyncIterator[Harness]:
    """A worker on `env` for the test's own task queue, and a Harness to drive it."""
    async with httpx.AsyncClient() as http, build_worker(env.client, settings, sessionmaker, http):
        harness = Harness(env, sessionmaker, settings, crm_url)
        try:
            yield harness
        finally:
            await harness.terminate_leftovers()


@pytest.fixture
async def harness(
    time_skipping: WorkflowEnvironment,
    sessionmaker: async_sessionmaker[AsyncSession],
    runtime_settings: Settings,
    crm: CrmStandIn,
) -> AsyncIterator[Harness]:
    async with running_harness(time_skipping, sessionmaker, runtime_settings, crm.url) as harness:
        yield harness
