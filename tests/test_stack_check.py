"""The worker end to end: a workflow on the real dev server runs an activity that queries PostgreSQL."""

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from engine.settings import Settings
from runtime.worker import build_worker
from workflows.stack_check import StackCheckWorkflow


async def test_stack_check_round_trip(
    temporal_client: Client, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with httpx.AsyncClient() as http, build_worker(temporal_client, settings, sessionmaker, http):
        probe = await temporal_client.execute_workflow(
            StackCheckWorkflow.run, id=f"check-{uuid.uuid4()}", task_queue=settings.task_queue
        )
    assert probe.database == "journeys"
    assert probe.server_version.startswith("18")
