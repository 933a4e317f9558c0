"""SQL for deliveries. The idempotency key (enrollment, node, visit) is unique: whoever inserts it owns
the send; a retry finds the row and does not send again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, TextClause, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Delivery, table
from engine.db.session import driver_fetch
from engine.profiles.repository import RESOLVE_SQL

COUNTED = ("sent", "pending")  # what caps and rate limits count: a pending send is about to go
SAVED = (
    "enrollment_id",
    "profile_id",
    "journey_key",
    "channel",
    "template",
    "template_version",
    "scheduled_at",
    "status",
    "reason",
    "payload",
)

# The send path's statements are built once: composing one costs more CPU than running it.
_DELIVERIES = table(Delivery)
_BY_KEY = select(Delivery).where(Delivery.idempotency_key == bindparam("key"))
# A row claimed as sent (a stored channel's: the row is the message) is stamped sent in the same statement.
_PROPOSED = insert(_DELIVERIES).values(sent_at=case((bindparam("stamp", type_=Boolean), func.now())))
# Core columns (not Delivery.x) in the writes: one ORM attribute makes the ORM's bulk-DML path run.
_SAVE = _PROPOSED.on_conflict_do_update(
    index_elements=["idempotency_key"],
    set_={name: _PROPOSED.excluded[name] for name in (*SAVED, "sent_at")},
    where=_DELIVERIES.c.status == "deferred",
).returning(_DELIVERIES.c.id)
_MARK = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("delivery_id"))
    .values(
        status=bindparam("final", type_=String),
        reason=bindparam("why", type_=String),
        # sent_at is stamped when the provider accepted it, and only then.
        sent_at=case((bindparam("final", type_=String) == "sent", func.now()), else_=_DELIVERIES.c.sent_at),
    )
)


# The inbox (polled by sites, the read path's hot route): plain columns, no ORM objects to load.
def _inbox_by_key(unread: str) -> TextClause:
    """The person behind `:key` (ProfileRepository's resolve) and their in-app messages, newest first, in one
    statement: a first row with the person's id (None: nobody) even when they have no message."""
    return text(
        f"WITH person AS ({RESOLVE_SQL}) SELECT p.profile_id, d.id, d.journey_key, d.template, d.payload,"
        " d.sent_at, d.read_at FROM (SELECT (SELECT * FROM person) AS profile_id) p LEFT JOIN LATERAL"
        " (SELECT id, journey_key, template, payload, sent_at, read_at FROM deliveries"
        f" WHERE profile_id = p.profile_id AND channel = 'in_app' AND status = 'sent'{unread}"
        " ORDER BY id DESC LIMIT :limit) d ON true"
    )


_INBOX = _inbox_by_key("")
_UNREAD = _inbox_by_key(" AND read_at IS NULL")


def idempotency_key(enrollment_id: str, node_id: str, visit: int) -> str:
    return f"{enrollment_id}:{node_id}:{visit}"


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_key(self, key: str) -> Delivery | None:
        return (await self.session.execute(_BY_KEY, {"key": key})).scalar_one_or_none()

    async def save(self, key: str, values: dict[str, Any]) -> int | None:
        """Insert the delivery (values: columns among SAVED), or take over a row that was only deferred so
        far; None if the key is owned already (whoever inserted it owns the send)."""
        params = {"idempotency_key": key, "stamp": values["status"] == "sent", **values}
        owned: int | None = (await self.session.execute(_SAVE, params)).scalar_one_or_none()
        return owned

    async def mark(self, delivery_id: int, status: str, reason: str | None = None) -> None:
        await self.session.execute(_MARK, {"delivery_id": delivery_id, "final": status, "why": reason})

    async def lock(self, scope: str) -> None:
        """Serialise the policy check and the claim per scope (a person's channel, a journey's rate):
        two journeys sending to one person at once cannot both slip under a cap."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:scope))"), {"scope": scope})

    async def count_to(self, profile_id: str, channel: str, since: datetime, until: datetime) -> int:
        query = select(func.count()).where(
            Delivery.profile_id == profile_id,
            Delivery.channel == channel,
            Delivery.status.in_(COUNTED),
            Delivery.scheduled_at > since,
            Delivery.scheduled_at <= until,
        )
        return int((await self.session.execute(query)).scalar_one())

    async def journey_window(
        self, journey_key: str, since: datetime, until: datetime
    ) -> tuple[int, datetime | None]:
        """How many messages the journey sent in the window, and the oldest of them."""
        query = select(func.count(), func.min(Delivery.scheduled_at)).where(
            Delivery.journey_key == journey_key,
            Delivery.channel != "webhook",
            Delivery.status.in_(COUNTED),
            Delivery.scheduled_at > since,
            Delivery.scheduled_at <= until,
        )
        count, oldest = (await self.session.execute(query)).one()
        return int(count), oldest

    async def inbox(self, key: str, limit: int, unread_only: bool) -> tuple[str | None, list[dict[str, Any]]]:
        """The profile id behind `key` (None: nobody) and rows with id, journey_key, template, payload,
        sent_at, read_at; newest first. One round trip (the read path was two: the person, the messages),
        straight to asyncpg (`driver_fetch`)."""
        statement = _UNREAD if unread_only else _INBOX
        rows = await driver_fetch(self.session, statement, {"key": key, "limit": limit})
        # The engine's connections decode jsonb (SQLAlchemy's asyncpg dialect sets the codec on connect).
        return rows[0]["profile_id"], [dict(row) for row in rows if row["id"] is not None]

    async def mark_read(self, profile_id: str, delivery_id: int) -> bool:
        statement = (
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.profile_id == profile_id,
                Delivery.channel == "in_app",
                Delivery.status == "sent",
            )
            .values(read_at=func.coalesce(Delivery.read_at, func.now()))
            .returning(Delivery.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None
