"""The Temporal schedules: the audience (and segment) sweep, and the predictive models' retraining;
created (or updated) by every worker at start."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from engine.settings import Settings
from workflows.audience_sweep import AudienceSweepWorkflow
from workflows.model_training import ModelTrainingWorkflow

SCHEDULE_ID = "journeys-audience-sweep"
MODEL_SCHEDULE_ID = "journeys-model-training"


def _schedules(settings: Settings) -> dict[str, Schedule]:
    def every(workflow: Any, run_id: str, seconds: int) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(workflow, id=run_id, task_queue=settings.task_queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=seconds))]),
            # A run still going when the next is due: skip, never pile up.
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )

    return {
        SCHEDULE_ID: every(
            AudienceSweepWorkflow.run, "journeys-audience-sweep-run", settings.audience_sweep_seconds
        ),
        MODEL_SCHEDULE_ID: every(
            ModelTrainingWorkflow.run, "journeys-model-training-run", settings.model_retrain_seconds
        ),
    }


async def ensure_schedule(client: Client, settings: Settings) -> None:
    for schedule_id, schedule in _schedules(settings).items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            async def replace(_: ScheduleUpdateInput, schedule: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id).update(replace)
