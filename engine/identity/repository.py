"""SQL for identities and profile merges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Event, Identity, Profile


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: Sequence[str]) -> None:
        """Serialises resolution of the same ids (two first events of a new visitor arriving at once)."""
        for key in sorted(set(keys)):
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 1))"), {"k": key}
            )

    async def profile_of(self, kind: str, value: str) -> str | None:
        query = select(Identity.profile_id).where(Identity.kind == kind, Identity.value == value)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def profiles_of(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Many (kind, value) identities at once: the fast path for people already known."""
        if not keys:
            return {}
        query = select(Identity.kind, Identity.value, Identity.profile_id).where(
            tuple_(Identity.kind, Identity.value).in_(list(set(keys)))
        )
        return {(row[0], row[1]): row[2] for row in await self.session.execute(query)}

    async def link(self, kind: str, value: str, profile_id: str) -> None:
        await self.session.execute(
            insert(Identity).values(kind=kind, value=value, profile_id=profile_id).on_conflict_do_nothing()
        )

    async def create_profile(self, profile_id: str) -> None:
        await self.session.execute(insert(Profile).values(id=profile_id, traits={}).on_conflict_do_nothing())

    async def merge(self, loser: str, survivor: str) -> None:
        """Everything of `loser` moves to `survivor`; survivor's traits win where both have one."""
        await self.session.execute(
            text(
                "UPDATE profiles s SET traits = l.traits || s.traits,"
                " timezone = coalesce(s.timezone, l.timezone),"
                " updated_at = now() FROM profiles l WHERE s.id = :survivor AND l.id = :loser"
            ),
            {"survivor": survivor, "loser": loser},
        )
        await self.session.execute(update(Event).where(Event.profile_id == loser).values(profile_id=survivor))
        await self.session.execute(
            update(Identity).where(Identity.profile_id == loser).values(profile_id=survivor)
        )
        await self.session.execute(
            update(Profile).where(Profile.merged_into == loser).values(merged_into=survivor)
        )
        await self.session.execute(
            update(Profile).where(Profile.id == loser).values(merged_into=survivor, traits={})
        )

    async def aliases(self, profile_id: str) -> list[str]:
        """The profile and every profile merged into it: their enrollments are this person's too."""
        query = select(Profile.id).where((Profile.id == profile_id) | (Profile.merged_into == profile_id))
        return list((await self.session.execute(query)).scalars())

    async def identities(self, profile_id: str) -> list[tuple[str, str]]:
        query = (
            select(Identity.kind, Identity.value)
            .where(Identity.profile_id == profile_id)
            .order_by(Identity.kind)
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]
