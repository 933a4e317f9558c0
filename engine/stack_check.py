from __future__ import annotations

import asyncio
import uuid

from activities.stack_check import DatabaseProbe
from engine import temporal_client
from engine.settings import Settings
from workflows.stack_check import StackCheckWorkflow


async def run_stack_check(settings: Settings, timeout: float = 30) -> DatabaseProbe:
    client = await temporal_client.connect(settings)
    async with asyncio.timeout(timeout):
        return await client.execute_workflow(
            StackCheckWorkflow.run,
            id=f"stack-check:{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
