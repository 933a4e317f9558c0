"""The hand-written baselines' worker (bench/handwritten.py), with the journeys worker's settings. The
throughput benchmark runs it inside the benchmark's process, beside journeys' worker; the reaction and
capacity benchmarks run it as a process of its own, as `journeys worker` runs journeys', so that no
worker shares an event loop with the benchmark sending the events, and each worker's memory is its own.

    .venv/bin/python -m bench.handwritten_worker   # DATABASE_URL and TEMPORAL_ADDRESS from the environment
"""

from __future__ import annotations

import asyncio
import compileall
import signal
import subprocess
import sys
from contextlib import AbstractContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench import handwritten
from bench.common import running
from bench.handwritten import HandWrittenCart, HandWrittenWaiter
from bench.handwritten_activities import HandWrittenActivities
from engine import temporal_client
from engine.db.session import create_engine, create_sessionmaker
from engine.long_lived import freeze_startup_objects
from engine.settings import Settings

# The hand-written workflows get the same sandbox as ours: their libraries are passed through, their
# own module (bench.handwritten) is re-imported for every workflow run, as workflows/journey.py is.
BASELINE_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("engine", "pydantic", "sqlalchemy")
)
BASELINE_QUEUE = "bench-handwritten"


def baseline_worker(
    client: Client, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Worker:
    """The hand-written workflows' worker, with the journeys worker's slot and cache settings (and its
    workflow module's bytecode cached, as build_worker caches ours)."""
    compileall.compile_file(handwritten.__file__, quiet=2)
    activities = HandWrittenActivities(sessionmaker)
    # What `journeys worker` does once started; in the benchmark's process it also moves what the earlier
    # phases left out of the collector's way (their full passes stalled this worker for 100 ms and more).
    freeze_startup_objects()
    return Worker(
        client,
        task_queue=BASELINE_QUEUE,
        workflows=[HandWrittenCart, HandWrittenWaiter],
        activities=[activities.cart_value, activities.deliver],
        workflow_runner=BASELINE_SANDBOX,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
    )


def baseline_worker_process(env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """This module's worker as a process of its own (the caller waits until its workflows show up)."""
    return running([sys.executable, "-m", "bench.handwritten_worker"], env)


async def serve() -> None:
    settings = Settings()
    client = await temporal_client.connect(settings)
    engine = create_engine(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        async with baseline_worker(client, settings, create_sessionmaker(engine)):
            await stop.wait()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(serve())
