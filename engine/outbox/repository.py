"""SQL for the transactional outbox: a row per stored event, written in the event's own statement
(engine.events.repository), claimed and marked by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from engine.db.models import Event, OutboxEntry

# PostgreSQL delivers a NOTIFY at commit: the dispatcher never wakes for rows it cannot see yet.
NOTIFY_CHANNEL = "journeys_outbox"

_CLAIMED = aliased(OutboxEntry)
_EARLIER = aliased(OutboxEntry)
# One round trip: the head rows are chosen and locked in the subquery, the outer select joins their events.
_CLAIM = (
    select(OutboxEntry, Event)
    .outerjoin(Event, Event.id == OutboxEntry.event_id)
    .where(
        OutboxEntry.id.in_(
            select(_CLAIMED.id)
            .where(
                _CLAIMED.processed_at.is_(None),
                _CLAIMED.dead_at.is_(None),
                or_(_CLAIMED.retry_at.is_(None), _CLAIMED.retry_at <= func.now()),
                ~exists().where(
                    _EARLIER.profile_id == _CLAIMED.profile_id,
                    _EARLIER.processed_at.is_(None),
                    _EARLIER.dead_at.is_(None),
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


_DONE = text(
    "WITH gone AS (DELETE FROM outbox o WHERE o.id = :id"
    " AND NOT EXISTS (SELECT FROM events e WHERE e.id = o.event_id) RETURNING 1)"
    " UPDATE outbox SET processed_at = :at WHERE id = :id AND NOT EXISTS (SELECT FROM gone)"
)


@dataclass(frozen=True)
class ParkedRow:
    entry: OutboxEntry
    message_id: str
    event: str


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, limit: int) -> Sequence[tuple[OutboxEntry, Event | None]]:
        """Pending rows that are the oldest pending row of their profile, locked for this transaction,
        with their event: None if it is gone (its person erased while the row waited), which must not
        hold up the person's later rows (the row has no foreign key: migration 0010).

        Only a profile's head row is eligible, and rows other dispatchers hold are skipped, so several
        dispatchers can run while each person's events still reach Temporal in the order they came.
        """
        rows = await self.session.execute(_CLAIM, {"limit": limit})
        return [(row[0], row[1]) for row in rows]

    async def done(self, entry_id: int, at: datetime) -> None:
        """Marks the row processed; deletes it instead if its event is gone, as its person was erased
        meanwhile (the erasure skips rows a dispatcher holds), so nothing keeps their id."""
        await self.session.execute(_DONE, {"id": entry_id, "at": at})

    async def failed(self, entry_id: int, error: str, retry_in: timedelta | None, park: bool) -> None:
        """Records a failed attempt. `retry_in`: the row waits that long, other rows are claimed meanwhile
        (None: at once, as for Temporal being away: the dispatcher's own backoff spaces those). `park`:
        the row leaves its person's order and waits for an operator."""
        values: dict[str, object] = {"attempts": OutboxEntry.attempts + 1, "last_error": error[:2000]}
        if retry_in is not None:
            values["retry_at"] = func.now() + retry_in
        if park:
            values["dead_at"] = func.now()
        await self.session.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id).values(**values))

    async def parked(self, limit: int) -> Sequence[ParkedRow]:
        query = (
            select(OutboxEntry, Event.message_id, Event.name, Event.type)
            .join(Event, Event.id == OutboxEntry.event_id)
            .where(OutboxEntry.processed_at.is_(None), OutboxEntry.dead_at.is_not(None))
            .order_by(OutboxEntry.id)
            .limit(limit)
        )
        return [
            ParkedRow(entry, message_id, name or kind)
            for entry, message_id, name, kind in await self.session.execute(query)
        ]

    async def revive(self, entry_id: int) -> bool:
        """A parked row back in the queue with its attempts reset, and the dispatcher woken for it."""
        if not await self._set_parked(entry_id, dead_at=None, retry_at=None, attempts=0):
            return False
        await self.session.execute(text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"))
        return True

    async def drop(self, entry_id: int) -> bool:
        """A parked row given up: marked processed (its event stays stored), kept with its error."""
        return await self._set_parked(entry_id, processed_at=func.now())

    async def _set_parked(self, entry_id: int, **values: object) -> bool:
        """Changes a parked row; False when no parked row has that id."""
        changed = await self.session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.id == entry_id,
                OutboxEntry.processed_at.is_(None),
                OutboxEntry.dead_at.is_not(None),
            )
            .values(**values)
            .returning(OutboxEntry.id)
        )
        return changed.first() is not None

    async def counts(self) -> tuple[int, int]:
        """(pending, parked) rows: for the metrics."""
        row = (
            await self.session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE dead_at IS NULL),"
                    " count(*) FILTER (WHERE dead_at IS NOT NULL) FROM outbox WHERE processed_at IS NULL"
                )
            )
        ).one()
        return int(row[0]), int(row[1])
