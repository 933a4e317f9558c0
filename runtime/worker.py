"""The Temporal worker process: journey workflows, their activities, and the outbox dispatcher.

Workflows run in Temporal's sandbox; engine modules they need are pure, so they are passed through
rather than re-imported per workflow run (faster, and identical code on replay).
"""

from __future__ import annotations

import asyncio
import compileall
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities.audience import AudienceActivities
from activities.bookkeeping import BookkeepingActivities
from activities.messaging import MessagingActivities
from activities.models import ModelActivities
from activities.profiles import ProfileActivities
from activities.stack_check import StackCheckActivities
from engine import temporal_client
from engine.db.session import create_engine, create_sessionmaker
from engine.errors import StartupError
from engine.long_lived import freeze_startup_objects
from engine.outbox.dispatcher import Dispatcher, running_dispatcher
from engine.settings import Settings
from runtime.schedules import ensure_schedule
from workflows.audience_sweep import AudienceSweepWorkflow
from workflows.journey import JourneyWorkflow
from workflows.model_training import ModelTrainingWorkflow
from workflows.stack_check import StackCheckWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: list[type[Any]] = [
    StackCheckWorkflow,
    JourneyWorkflow,
    AudienceSweepWorkflow,
    ModelTrainingWorkflow,
]
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("engine", "activities", "pydantic")
)


def metrics_runtime(settings: Settings) -> Runtime:
    """The SDK's own metrics (task latencies, slots, polls) on a Prometheus endpoint."""
    address = f"{settings.api_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def activities_for(
    client: Client,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
) -> list[Callable[..., Any]]:
    checks = StackCheckActivities(sessionmaker)
    books = BookkeepingActivities(sessionmaker, settings.default_timezone)
    profiles = ProfileActivities(sessionmaker, settings.default_timezone)
    messaging = MessagingActivities(sessionmaker, http, settings)
    audience = AudienceActivities(sessionmaker, client, settings)
    models = ModelActivities(sessionmaker, settings)
    return [
        audience.sweep_audiences,
        models.train_models,
        checks.probe_database,
        books.begin_enrollment,
        books.record_step,
        books.record_steps,
        books.record_exposure,
        books.split_weights,
        books.record_outcome,
        books.finish_enrollment,
        profiles.read_profile,
        profiles.resolve_wait_until,
        profiles.update_profile,
        messaging.send_message,
        messaging.call_webhook,
    ]


def cache_workflow_bytecode() -> None:
    """The sandbox re-imports the workflow modules for every workflow run it loads. Without cached
    bytecode (PYTHONDONTWRITEBYTECODE, a fresh checkout) each of those imports compiles the source
    again, for every run. A read-only install simply skips this."""
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def build_worker(
    client: Client,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
) -> Worker:
    activities = activities_for(client, settings, sessionmaker, http)
    cache_workflow_bytecode()
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=SANDBOX,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def run_worker(settings: Settings) -> None:
    try:
        client = await temporal_client.connect(settings, runtime=metrics_runtime(settings))
    except RuntimeError as error:  # the SDK reports connection failures as RuntimeError
        raise StartupError(f"cannot reach Temporal at {settings.temporal_target}: {error}") from error
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.temporal_namespace)
        )
    except RPCError as error:
        raise StartupError(f"Temporal namespace {settings.temporal_namespace!r}: {error.message}") from error
    engine = create_engine(settings)
    http = httpx.AsyncClient(follow_redirects=False)
    worker = build_worker(client, settings, create_sessionmaker(engine), http)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %r on %s", settings.task_queue, settings.temporal_target)
    dispatcher = Dispatcher(settings, create_sessionmaker(engine), client)
    try:
        await ensure_schedule(client, settings)
    except RPCError as error:  # e.g. a server without schedules: journeys still run, sweeps do not
        log.warning("sweep and retraining schedules not created: %s", error.message)
    freeze_startup_objects()
    try:
        async with worker, running_dispatcher(dispatcher):
            await stop.wait()
            log.info("worker shutting down: finishing in-flight activities")
    finally:
        await http.aclose()
        await engine.dispose()
