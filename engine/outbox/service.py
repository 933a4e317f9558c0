"""Parked events (the outbox's dead letters): listed with their error, retried or dropped by an operator."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import NotFound
from engine.outbox.repository import OutboxRepository


class ParkedEvent(BaseModel):
    id: int  # the outbox row: what retry and drop name
    message_id: str
    event: str
    profile_id: str
    attempts: int
    error: str | None
    parked_at: datetime
    stored_at: datetime


class OutboxStatus(BaseModel):
    pending: int
    parked: int


class DeadLetterService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = OutboxRepository(session)

    async def parked(self, limit: int) -> list[ParkedEvent]:
        return [
            ParkedEvent(
                id=row.entry.id,
                message_id=row.message_id,
                event=row.event,
                profile_id=row.entry.profile_id,
                attempts=row.entry.attempts,
                error=row.entry.last_error,
                parked_at=row.entry.dead_at,
                stored_at=row.entry.created_at,
            )
            for row in await self.repo.parked(limit)
        ]

    async def retry(self, entry_id: int) -> None:
        if not await self.repo.revive(entry_id):
            raise NotFound(f"no parked event {entry_id}")

    async def drop(self, entry_id: int) -> None:
        if not await self.repo.drop(entry_id):
            raise NotFound(f"no parked event {entry_id}")

    async def status(self) -> OutboxStatus:
        pending, parked = await self.repo.counts()
        return OutboxStatus(pending=pending, parked=parked)
