"""SQL for profiles. Identity resolution and merges come with ingestion; this is what journeys need."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, array, insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Enrollment, Profile

# The profile, or the one it was merged into. Plain SQL, as `get_current`'s ORM load and as the first CTE
# of the journeys' profile read (engine.signals.repository, which needs no Profile object). Built once:
# composing it as an aliased join took ~2 ms of CPU a call, far more than running it.
CURRENT_SQL = (
    "SELECT s.* FROM profiles p JOIN profiles s ON s.id = coalesce(p.merged_into, p.id)"
    " WHERE p.id = :profile_id"
)
_CURRENT = select(Profile).from_statement(text(CURRENT_SQL))


# A profile id, else a user id, else an anonymous id (the identity kinds of engine.identity.service), answered
# by the surviving profile: one round trip for the read path whichever id the caller holds. Also the first
# CTE of the signals and inbox reads (engine.signals.repository, engine.delivery.repository).
RESOLVE_SQL = (
    "SELECT coalesce(p.merged_into, p.id) FROM"
    " (SELECT CAST(:key AS text) AS profile_id, 0 AS rank"
    "  UNION ALL SELECT profile_id, 1 FROM identities WHERE kind = 'user_id' AND value = :key"
    "  UNION ALL SELECT profile_id, 2 FROM identities WHERE kind = 'anonymous_id' AND value = :key) k"
    " JOIN profiles p ON p.id = k.profile_id ORDER BY k.rank LIMIT 1"
)
_RESOLVE = text(RESOLVE_SQL)


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, profile_id: str) -> Profile | None:
        return await self.session.get(Profile, profile_id)

    async def page_outside_journey(self, journey_id: int, after: str, limit: int) -> Sequence[Profile]:
        """Profiles (not merged away) with no active enrollment in the journey, in id order from `after`."""
        enrolled = select(Enrollment.profile_id).where(
            Enrollment.journey_id == journey_id, Enrollment.status == "active"
        )
        query = (
            select(Profile)
            .where(Profile.id > after, Profile.merged_into.is_(None), Profile.id.not_in(enrolled))
            .order_by(Profile.id)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def page_present(self, after: str, limit: int) -> list[str]:
        """Ids of profiles not merged away, in id order from `after`."""
        query = (
            select(Profile.id)
            .where(Profile.id > after, Profile.merged_into.is_(None))
            .order_by(Profile.id)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def lock_present(self, profile_id: str) -> bool:
        """Whether the profile exists, its row locked FOR SHARE until the transaction ends: an entry
        checks it so that it waits for an erasure in progress (which locks FOR UPDATE) and then refuses."""
        found = await self.session.execute(
            text("SELECT 1 FROM profiles WHERE id = :id FOR SHARE"), {"id": profile_id}
        )
        return found.first() is not None

    async def get_current(self, profile_id: str) -> Profile | None:
        """The profile, or the one it was merged into: one query, for the activities' hot path."""
        return (await self.session.execute(_CURRENT, {"profile_id": profile_id})).scalar_one_or_none()

    async def resolve(self, key: str) -> str | None:
        """The surviving profile id for a profile id, user id or anonymous id."""
        return (await self.session.execute(_RESOLVE, {"key": key})).scalar_one_or_none()

    async def current_id(self, profile_id: str) -> str:
        """An enrollment begun under an id since merged into another profile reads the survivor."""
        merged = (
            await self.session.execute(select(Profile.merged_into).where(Profile.id == profile_id))
        ).scalar_one_or_none()
        return merged or profile_id

    async def upsert(
        self, profile_id: str, traits: dict[str, Any] | None = None, timezone: str | None = None
    ) -> None:
        await self.upsert_many([(profile_id, traits or {}, timezone)])

    async def upsert_many(self, profiles: list[tuple[str, dict[str, Any], str | None]]) -> None:
        """Create each (id, traits, timezone), or merge its traits in (JSONB `||`, so concurrent merges do
        not clobber) and set its timezone if one is given. In id order: two batches updating the same
        people lock their rows in the same order."""
        if not profiles:
            return
        statement = insert(Profile)
        statement = statement.on_conflict_do_update(
            index_elements=[Profile.id],
            set_={
                "traits": Profile.traits.op("||")(statement.excluded.traits),
                "timezone": func.coalesce(statement.excluded.timezone, Profile.timezone),
                "updated_at": func.now(),
            },
        )
        await self.session.execute(
            statement,
            [
                {"id": id_, "traits": traits, "timezone": tz}
                for id_, traits, tz in sorted(profiles, key=itemgetter(0))
            ],
        )

    async def change_traits(self, profile_id: str, set_: dict[str, Any], unset: list[str]) -> None:
        """Setting and removing keys is idempotent, so a retried activity changes nothing more."""
        traits = Profile.traits.op("||")(bindparam("set_traits", set_, type_=JSONB))
        if unset:
            traits = traits.op("-")(array(unset))
        await self.session.execute(
            update(Profile).where(Profile.id == profile_id).values(traits=traits, updated_at=func.now())
        )


ERASED_ID = "erased"  # what stays in place of an erased person's ids, where a row must keep a value


class ErasureRepository:
    """Right to erasure: the person's data goes; experiment counts stay, no longer tied to them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stop_routing(self, profile_ids: list[str]) -> None:
        """Their events not yet routed are dropped. A row a dispatcher is routing is locked by it: this
        waits for that routing to commit (the enrollment it starts is then seen and ended). Before
        `lock`: the routing may itself wait for the profile's row."""
        await self.session.execute(
            text("DELETE FROM outbox WHERE profile_id = ANY(:ids)"), {"ids": profile_ids}
        )

    async def lock(self, profile_ids: list[str]) -> None:
        """FOR UPDATE until the erasure commits: events being written for them, entries and merges wait
        (each takes the row FOR SHARE or FOR UPDATE first), then find them gone."""
        await self.session.execute(
            text("SELECT id FROM profiles WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"), {"ids": profile_ids}
        )

    async def erase(self, profile_ids: list[str]) -> None:
        """Everything that names them, in every table; enrollments, exposures and outcomes stay, counted
        but anonymous (the trait snapshot an exposure kept for breakdowns goes too)."""
        params = {"ids": profile_ids, "erased": ERASED_ID}
        for statement in (
            "DELETE FROM events WHERE profile_id = ANY(:ids)",
            # Rows a dispatcher holds are skipped, not waited for: their routing waits for this erasure
            # (the profile lock), and the dispatcher deletes them once it finds their event gone.
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE profile_id = ANY(:ids)"
            " FOR UPDATE SKIP LOCKED)",
            "DELETE FROM identities WHERE profile_id = ANY(:ids)",
            "UPDATE deliveries SET payload = '{}'::jsonb, profile_id = :erased WHERE profile_id = ANY(:ids)",
            "UPDATE enrollment_steps SET decision = NULL WHERE enrollment_id IN"
            " (SELECT id FROM enrollments WHERE profile_id = ANY(:ids))",
            "UPDATE exposures SET profile_id = :erased, attributes = NULL WHERE profile_id = ANY(:ids)",
            "UPDATE outcomes SET profile_id = NULL WHERE profile_id = ANY(:ids)",
            "UPDATE enrollments SET profile_id = :erased, correlation = NULL, workflow_id = :erased"
            " WHERE profile_id = ANY(:ids)",
            "UPDATE profiles SET merged_into = NULL WHERE id = ANY(:ids)",
            "DELETE FROM profiles WHERE id = ANY(:ids)",
        ):
            await self.session.execute(text(statement), params)
