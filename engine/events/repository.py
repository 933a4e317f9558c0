"""SQL for events and the transactional outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Event, OutboxEntry

NOTIFY_CHANNEL = "journeys_outbox"

# pg_notify is delivered by PostgreSQL at commit, so the dispatcher never wakes for rows it cannot see.
STORE = text(
    "WITH stored AS ("
    " INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
    " SELECT m, p, t, n, CAST(pr AS jsonb), CAST(c AS jsonb), ts FROM unnest("
    "CAST(:message_id AS text[]), CAST(:profile_id AS text[]), CAST(:type AS text[]), CAST(:name AS text[]),"
    " CAST(:properties AS text[]), CAST(:context AS text[]), CAST(:timestamp AS timestamptz[])"
    ") AS u(m, p, t, n, pr, c, ts)"
    " ON CONFLICT (message_id) DO NOTHING RETURNING id, profile_id),"
    " queued AS (INSERT INTO outbox (event_id, profile_id) SELECT id, profile_id FROM stored ORDER BY id"
    " RETURNING 1)"
    f" SELECT count(*), CASE WHEN count(*) > 0 THEN pg_notify('{NOTIFY_CHANNEL}', '')::text END FROM queued"
)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, rows: list[dict[str, Any]]) -> int:
        """Inserts the events and their outbox rows and wakes the dispatcher, in one statement (one round
        trip on the ingest hot path, the same prepared statement for one event or a hundred). Returns how
        many were stored: replays of a stored messageId are skipped. Outbox rows follow event order, so
        each person's events are routed in the order they came."""
        if not rows:
            return 0
        columns = {column: [row[column] for row in rows] for column in rows[0]}
        for column in ("properties", "context"):
            columns[column] = [json.dumps(value) for value in columns[column]]
        return int((await self.session.execute(STORE, columns)).scalar_one())

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
