from __future__ import annotations

import asyncio
import uuid

from activities.stack_check import DatabaseProbe
from engine import temporal_client
from engine.settings import Settings
from workflows.stack_check import StackCheckWorkflow

TIMEOUT_SECONDS = 30


async def run_stack_check(settings: Settings) -> DatabaseProbe:
    client = await temporal_client.connect(settings)
    async with asyncio.timeout(TIMEOUT_SECONDS):
        return await client.execute_workflow(
            StackCheckWorkflow.run,
            id=f"stack-check:{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
