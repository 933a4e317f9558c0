"""SQL for deliveries. The idempotency key (enrollment, node, visit) is unique: whoever inserts it owns
the send; a retry finds the row and does not send again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Delivery


def idempotency_key(enrollment_id: str, node_id: str, visit: int) -> str:
    return f"{enrollment_id}:{node_id}:{visit}"


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_key(self, key: str) -> Delivery | None:
        return (
            await self.session.execute(select(Delivery).where(Delivery.idempotency_key == key))
        ).scalar_one_or_none()

    async def claim(self, key: str, values: dict[str, Any]) -> int | None:
        """Insert the delivery; None if the key exists already (someone else owns it)."""
        statement = (
            insert(Delivery)
            .values(idempotency_key=key, **values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Delivery.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def mark(self, delivery_id: int, status: str, reason: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "reason": reason}
        if status == "sent":
            values["sent_at"] = func.now()
        await self.session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
