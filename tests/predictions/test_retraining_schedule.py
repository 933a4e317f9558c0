"""The worker keeps a schedule that retrains the models (the dev server: the time-skipping one has no
schedules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import ScheduleActionExecutionStartWorkflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer

from activities.models import ModelActivities, TrainInput
from engine.db.session import create_sessionmaker
from engine.settings import Settings
from runtime.schedules import MODEL_SCHEDULE_ID, SCHEDULE_ID, ensure_schedule
from runtime.worker import SANDBOX
from tests.ingestion.conftest import Stack, eventually, stack
from tests.predictions.conftest import ADMIN, import_shop
from workflows.model_training import ModelTrainingWorkflow

__all__ = ["stack"]


async def test_the_schedule_retrains_the_models(
    stack: Stack, temporal_dev: WorkflowEnvironment, settings: Settings
) -> None:
    await import_shop(stack.api)
    await ensure_schedule(temporal_dev.client, settings)
    handle = temporal_dev.client.get_schedule_handle(MODEL_SCHEDULE_ID)
    try:
        description = await handle.describe()
        every = description.schedule.spec.intervals[0].every
        assert every == timedelta(seconds=settings.model_retrain_seconds)
        await handle.trigger()

        async def trained() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (await stack.api.get("/api/models", headers=ADMIN)).json()
            return found

        [model] = await eventually(trained, patience=60)
        assert model["customers"] == 600
        # Its history replays against the current workflow code (as the journeys' recorded ones do).
        [action] = (await handle.describe()).info.recent_actions
        assert isinstance(action.action, ScheduleActionExecutionStartWorkflow)
        run = temporal_dev.client.get_workflow_handle(action.action.workflow_id)
        await run.result()
        replayer = Replayer(
            workflows=[ModelTrainingWorkflow], workflow_runner=SANDBOX, data_converter=pydantic_data_converter
        )
        await replayer.replay_workflow(await run.fetch_history())
    finally:
        await handle.delete()
        await temporal_dev.client.get_schedule_handle(SCHEDULE_ID).delete()


async def test_a_retried_run_trains_once(stack: Stack, settings: Settings) -> None:
    await import_shop(stack.api)
    activities = ModelActivities(create_sessionmaker(stack.db), settings)
    run = TrainInput(scheduled_at=datetime.now(UTC))
    first = await ActivityEnvironment().run(activities.train_models, run)
    retried = await ActivityEnvironment().run(activities.train_models, run)  # as after a lost completion
    assert first.model_id is not None
    assert retried.model_id == first.model_id
    assert len((await stack.api.get("/api/models", headers=ADMIN)).json()) == 1
    later = await ActivityEnvironment().run(
        activities.train_models, TrainInput(scheduled_at=datetime.now(UTC))
    )
    assert later.model_id != first.model_id  # the next scheduled run trains anew
