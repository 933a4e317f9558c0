"""SQL for identities and profile merges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Event, Identity, Profile

# Arrays rather than an expanding IN list: one prepared statement for one id or a batch's hundreds, and a
# plain text statement skips the ORM's per-call compile state and cache key, which cost the API more than
# PostgreSQL's re-planning of array parameters costs the database.
PROFILES_OF = text(
    "SELECT i.kind, i.value, i.profile_id FROM unnest(CAST(:kinds AS text[]), CAST(:values AS text[]))"
    " AS k(kind, value) JOIN identities i ON i.kind = k.kind AND i.value = k.value"
)


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: Sequence[str]) -> None:
        """Serialises resolution of the same ids (two first events of a new visitor arriving at once).

        One statement however many ids; taken in hash order, the same order in every transaction, so two
        batches sharing people wait for each other instead of deadlocking."""
        await self.session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 1) AS h"
                " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS ordered"
            ),
            {"keys": list(keys)},
        )

    async def profile_of(self, kind: str, value: str) -> str | None:
        query = select(Identity.profile_id).where(Identity.kind == kind, Identity.value == value)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def profiles_of(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Many (kind, value) identities at once: the fast path for people already known."""
        if not keys:
            return {}
        unique = list(set(keys))
        rows = await self.session.execute(
            PROFILES_OF, {"kinds": [k for k, _ in unique], "values": [v for _, v in unique]}
        )
        return {(row[0], row[1]): row[2] for row in rows}

    async def link(self, kind: str, value: str, profile_id: str) -> None:
        await self.link_many([(kind, value, profile_id)])

    async def link_many(self, links: Sequence[tuple[str, str, str]]) -> None:
        """(kind, value, profile id) rows in one pipelined executemany."""
        if links:
            await self.session.execute(
                insert(Identity).on_conflict_do_nothing(),
                [{"kind": kind, "value": value, "profile_id": profile} for kind, value, profile in links],
            )

    async def create_profiles(self, profile_ids: Sequence[str]) -> None:
        if profile_ids:
            await self.session.execute(
                insert(Profile).on_conflict_do_nothing(), [{"id": id_, "traits": {}} for id_ in profile_ids]
            )

    async def merge(self, loser: str, survivor: str) -> None:
        """Everything of `loser` moves to `survivor`; survivor's traits win where both have one.

        The loser (and the profiles merged into it before) are locked first, FOR UPDATE: an event being
        written for one of them holds it FOR SHARE (engine.events.repository), so the merge waits for
        that event to commit and then moves it, and an event written after the lock waits for the merge
        and lands on the survivor. Without the lock an event committed between the moves below and the
        commit stayed on the merged-away profile."""
        await self.session.execute(
            text("SELECT id FROM profiles WHERE id = :loser OR merged_into = :loser ORDER BY id FOR UPDATE"),
            {"loser": loser},
        )
        await self.session.execute(
            text(
                "UPDATE profiles s SET traits = l.traits || s.traits,"
                " timezone = coalesce(s.timezone, l.timezone),"
                " updated_at = now() FROM profiles l WHERE s.id = :survivor AND l.id = :loser"
            ),
            {"survivor": survivor, "loser": loser},
        )
        await self.session.execute(
            update(Identity).where(Identity.profile_id == loser).values(profile_id=survivor)
        )
        await self.session.execute(
            update(Profile).where(Profile.merged_into == loser).values(merged_into=survivor)
        )
        await self.session.execute(
            update(Profile).where(Profile.id == loser).values(merged_into=survivor, traits={})
        )
        await self.session.execute(update(Event).where(Event.profile_id == loser).values(profile_id=survivor))

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
