"""The hand-written baselines' activities and their input, in a module of their own that the sandbox passes
through, as journeys pass theirs (engine/): defined in bench/handwritten.py, the pydantic model was rebuilt
in the sandbox on every workflow run (~2.3 ms of the baseline's ~78 ms of CPU per enrollment)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from engine.signals.repository import SignalRepository

WAITING = "waiting"  # the template name of the rows that only record a wait


class Step(BaseModel):
    profile_id: str
    key: str
    template: str = "bench_reminder"


class HandWrittenActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def cart_value(self, profile_id: str) -> float:
        async with self._sessionmaker() as session:
            signals = await SignalRepository(session).compute(profile_id, ["cart_value"], datetime.now(UTC))
            return float(signals["cart_value"] or 0)

    @activity.defn
    async def deliver(self, step: Step) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO deliveries (idempotency_key, enrollment_id, profile_id, channel, template,"
                    " status, payload, sent_at) VALUES (:key, :key, :profile, 'outbox', :template, 'sent',"
                    " '{}'::jsonb, now()) ON CONFLICT (idempotency_key) DO NOTHING"
                ),
                {"key": step.key, "profile": step.profile_id, "template": step.template},
            )
