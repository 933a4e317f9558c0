from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client

from engine.audiences.sweep import sweep
from engine.segments import membership
from engine.settings import Settings


class SweepInput(BaseModel):
    now: datetime


class SweepResult(BaseModel):
    checked: int
    enrolled: int
    deferred: int = 0  # matched, but their previous run of the journey was still closing


class AudienceActivities:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings
    ) -> None:
        self._sessionmaker = sessionmaker
        self._temporal = temporal
        self._settings = settings

    @activity.defn
    async def sweep_audiences(self, input: SweepInput) -> SweepResult:
        """Idempotent: admission refuses anyone already enrolled, so a retried sweep enrolls nobody twice."""
        totals = await sweep(
            self._sessionmaker, self._temporal, self._settings, input.now, activity.heartbeat
        )
        # Segments too: who entered or left one with time alone (their events are routed as usual).
        await membership.sweep(
            self._sessionmaker, input.now, self._settings.default_timezone, activity.heartbeat
        )
        return SweepResult(checked=totals.checked, enrolled=totals.enrolled, deferred=totals.deferred)
