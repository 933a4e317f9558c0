"""The scheduled retraining of the predictive models (engine.predictions), as an activity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from engine.predictions.service import ModelService
from engine.predictions.training import NotEnoughData
from engine.settings import Settings


class TrainInput(BaseModel):
    scheduled_at: datetime


class TrainResult(BaseModel):
    model_id: int | None  # None: refused
    refused: str | None = None  # why: too little data is an answer, not a failure to retry


class ModelActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings

    @activity.defn
    async def train_models(self, input: TrainInput) -> TrainResult:
        """Trains on every event stored by now, once per scheduled run: a retry after the commit answers
        the version it stored."""
        try:
            async with self._sessionmaker() as session, session.begin():
                trained = await ModelService(session, self._settings).train(input.scheduled_at)
        except NotEnoughData as refusal:
            activity.logger.info("models not retrained: %s", refusal.message)
            return TrainResult(model_id=None, refused=refusal.message)
        return TrainResult(model_id=trained.id)
