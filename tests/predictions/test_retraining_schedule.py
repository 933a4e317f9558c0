"""The worker keeps a schedule that retrains the models (the dev server: the time-skipping one has no
schedules)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from engine.settings import Settings
from runtime.schedules import MODEL_SCHEDULE_ID, SCHEDULE_ID, ensure_schedule
from tests.ingestion.conftest import Stack, eventually, stack
from tests.predictions.conftest import ADMIN, import_shop

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
    finally:
        await handle.delete()
        await temporal_dev.client.get_schedule_handle(SCHEDULE_ID).delete()
