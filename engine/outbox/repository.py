"""SQL for the transactional outbox: a row per stored event, written in the event's own statement
(engine.events.repository), claimed and marked by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
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
