"""SQL for events and the transactional outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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


_CLAIMED = aliased(OutboxEntry)
_EARLIER = aliased(OutboxEntry)
# One round trip: the head rows are chosen and locked in the subquery, the outer select joins their events.
_CLAIM = (
    select(OutboxEntry, Event)
    .join(Event, Event.id == OutboxEntry.event_id)
    .where(
        OutboxEntry.id.in_(
            select(_CLAIMED.id)
            .where(
                _CLAIMED.processed_at.is_(None),
                ~exists().where(
                    _EARLIER.profile_id == _CLAIMED.profile_id,
                    _EARLIER.processed_at.is_(None),
                    _EARLIER.id < _CLAIMED.id,
                ),
            )
            .order_by(_CLAIMED.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
    )
    .order_by(OutboxEntry.id)
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
        rows = await self.session.execute(_CLAIM, {"limit": limit})
        return [(row[0], row[1]) for row in rows]

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
