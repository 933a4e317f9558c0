"""Run by a Temporal schedule (every JOURNEYS_MODEL_RETRAIN_SECONDS): retrain the predictive models."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.models import ModelActivities, TrainInput, TrainResult


@workflow.defn
class ModelTrainingWorkflow:
    @workflow.run
    async def run(self) -> TrainResult:
        return await workflow.execute_activity_method(
            ModelActivities.train_models,
            TrainInput(scheduled_at=workflow.now()),
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
