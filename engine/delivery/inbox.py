"""The in-app inbox: in_app messages a journey sent to a person, newest first (the site polls this)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from engine.delivery.repository import DeliveryRepository
from engine.errors import NotFound, UnknownPerson


class InboxMessage(BaseModel):
    id: int
    journey: str | None
    template: str | None
    subject: str | None
    body: str
    html: str | None
    sent_at: datetime | None
    read_at: datetime | None


class InboxService:
    def __init__(self, session: AsyncSession) -> None:
        self.deliveries = DeliveryRepository(session)

    async def messages(self, key: str, limit: int, unread_only: bool) -> list[InboxMessage]:
        """The in-app messages of the person with profile id, user id or anonymous id `key`."""
        profile_id, rows = await self.deliveries.inbox(key, limit, unread_only)
        if profile_id is None:
            raise UnknownPerson(key)
        return [
            InboxMessage(
                id=row["id"],
                journey=row["journey_key"],
                template=row["template"],
                subject=row["payload"].get("subject"),
                body=row["payload"].get("body") or "",
                html=row["payload"].get("html"),
                sent_at=row["sent_at"],
                read_at=row["read_at"],
            )
            for row in rows
        ]

    async def mark_read(self, profile_id: str, message_id: int) -> None:
        if not await self.deliveries.mark_read(profile_id, message_id):
            raise NotFound(f"no in-app message {message_id} for this profile")
