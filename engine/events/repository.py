"""SQL for events and the transactional outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Event, OutboxEntry

NOTIFY_CHANNEL = "journeys_outbox"


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> int | None:
        """The event's id, or None if its messageId was stored before (a replay: nothing to do)."""
        statement = (
            insert(Event)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(Event.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def insert_many(self, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
        """(event id, profile id) of the rows stored now; replays of a stored messageId are skipped."""
        if not rows:
            return []
        # An executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues")
        # from one cached compiled statement, instead of compiling a new 100-row VALUES every call.
        statement = (
            insert(Event)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(Event.id, Event.profile_id)
        )
        if len(rows) == 1:  # one event (/v1/track): a plain execute is cheaper than the batching machinery
            result = await self.session.execute(statement.values(rows[0]))
        else:
            result = await self.session.execute(statement, rows)
        return sorted((row[0], row[1]) for row in result)

    async def enqueue_many(self, stored: list[tuple[int, str]]) -> None:
        """Outbox rows in event order, so each person's events are routed in the order they came."""
        if stored:
            await self.session.execute(
                insert(OutboxEntry).values(
                    [{"event_id": event_id, "profile_id": profile} for event_id, profile in stored]
                )
            )

    async def notify(self) -> None:
        # Delivered by PostgreSQL at commit, so the dispatcher never wakes for rows it cannot see.
        await self.session.execute(text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"))

    async def recent(self, profile_id: str, limit: int = 20) -> Sequence[Event]:
        query = (
            select(Event).where(Event.profile_id == profile_id).order_by(Event.timestamp.desc()).limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, limit: int) -> Sequence[tuple[OutboxEntry, Event]]:
        """Pending rows that are the oldest pending row of their profile, locked for this transaction.

        Only a profile's head row is eligible, and rows other dispatchers hold are skipped, so several
        dispatchers can run while each person's events still reach Temporal in the order they came.
        """
        ids = (
            (
                await self.session.execute(
                    text(
                        "SELECT o.id FROM outbox o WHERE o.processed_at IS NULL AND NOT EXISTS ("
                        " SELECT 1 FROM outbox e WHERE e.profile_id = o.profile_id AND e.processed_at IS NULL"
                        " AND e.id < o.id) ORDER BY o.id LIMIT :limit FOR UPDATE SKIP LOCKED"
                    ),
                    {"limit": limit},
                )
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        query = (
            select(OutboxEntry, Event)
            .join(Event, Event.id == OutboxEntry.event_id)
            .where(OutboxEntry.id.in_(ids))
        )
        return [(row[0], row[1]) for row in await self.session.execute(query.order_by(OutboxEntry.id))]

    async def done(self, entry_id: int, at: datetime) -> None:
        await self.session.execute(
            update(OutboxEntry).where(OutboxEntry.id == entry_id).values(processed_at=at)
        )

    async def failed(self, entry_id: int, error: str) -> None:
        await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry_id)
            .values(attempts=OutboxEntry.attempts + 1, last_error=error[:2000])
        )
