"""SQL for consent. No row means subscribed; `all` speaks for every channel."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Consent

_OF = select(Consent.channel, Consent.subscribed).where(Consent.profile_id == bindparam("profile_id"))


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set(self, profile_id: str, channel: str, subscribed: bool, source: str) -> None:
        statement = insert(Consent).values(
            profile_id=profile_id, channel=channel, subscribed=subscribed, source=source
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Consent.profile_id, Consent.channel],
                set_={"subscribed": subscribed, "source": source, "updated_at": func.now()},
            )
        )
        if channel == "all":
            # A global choice replaces the per-channel ones made before it.
            await self.session.execute(
                delete(Consent).where(Consent.profile_id == profile_id, Consent.channel != "all")
            )

    async def of(self, profile_id: str) -> dict[str, bool]:
        rows = await self.session.execute(_OF, {"profile_id": profile_id})
        return {row.channel: row.subscribed for row in rows}

    async def merge(self, loser: str, survivor: str) -> None:
        """The merged person keeps every opt-out either profile had (an unsubscribe is never lost)."""
        await self.session.execute(
            text(
                "INSERT INTO consents (profile_id, channel, subscribed, source, updated_at)"
                " SELECT :survivor, channel, subscribed, source, updated_at FROM consents"
                " WHERE profile_id = :loser"
                " ON CONFLICT (profile_id, channel) DO UPDATE"
                " SET subscribed = consents.subscribed AND excluded.subscribed"
            ),
            {"survivor": survivor, "loser": loser},
        )
        await self.session.execute(delete(Consent).where(Consent.profile_id == loser))
