"""Identity resolution: `userId` and `anonymousId` values map to one profile; identify/alias link them,
and when both already had profiles, the anonymous one is merged into the known one."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.repository import ConsentRepository
from engine.identity.repository import IdentityRepository

USER, ANONYMOUS = "user_id", "anonymous_id"


def new_profile_id(user_id: str | None, anonymous_id: str | None) -> str:
    """Readable ids: a known user's own id; `anon-<anonymousId>` for a visitor not yet identified."""
    return user_id if user_id is not None else f"anon-{anonymous_id}"


class IdentityService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = IdentityRepository(session)
        self.consents = ConsentRepository(session)

    async def _merge(self, loser: str, survivor: str) -> None:
        await self.repo.merge(loser, survivor)
        await self.consents.merge(loser, survivor)

    async def resolve(self, user_id: str | None, anonymous_id: str | None) -> str:
        keys = [f"{USER}:{user_id}"] if user_id else []
        keys += [f"{ANONYMOUS}:{anonymous_id}"] if anonymous_id else []
        await self.repo.lock(keys)
        known = await self.repo.profile_of(USER, user_id) if user_id else None
        visitor = await self.repo.profile_of(ANONYMOUS, anonymous_id) if anonymous_id else None
        if known and visitor and known != visitor:
            await self._merge(visitor, known)
            return known
        profile_id = known or visitor
        if profile_id is None:
            profile_id = new_profile_id(user_id, anonymous_id)
            await self.repo.create_profile(profile_id)
        if user_id and not known:
            await self.repo.link(USER, user_id, profile_id)
        if anonymous_id and not visitor:
            await self.repo.link(ANONYMOUS, anonymous_id, profile_id)
        return profile_id

    async def resolve_many(
        self, pairs: list[tuple[str | None, str | None]]
    ) -> dict[tuple[str | None, str | None], str]:
        """Profiles for many (userId, anonymousId) pairs: one query when everyone is already known and
        consistent; the locked path (links, merges) only for the others, in order."""
        keys = [(USER, u) for u, _ in pairs if u] + [(ANONYMOUS, a) for _, a in pairs if a]
        known = await self.repo.profiles_of(keys)
        out: dict[tuple[str | None, str | None], str] = {}
        for pair in pairs:
            if pair in out:
                continue
            user_id, anonymous_id = pair
            by_user = known.get((USER, user_id)) if user_id else None
            by_visitor = known.get((ANONYMOUS, anonymous_id)) if anonymous_id else None
            if by_user and (anonymous_id is None or by_visitor == by_user):
                out[pair] = by_user
            elif by_visitor and user_id is None:
                out[pair] = by_visitor
            else:
                out[pair] = await self.resolve(user_id, anonymous_id)
                for key in ((USER, user_id), (ANONYMOUS, anonymous_id)):
                    if key[1]:
                        known[key] = out[pair]  # type: ignore[index]
        return out

    async def alias(self, previous_id: str, user_id: str) -> str:
        """`alias(previousId → userId)`: previousId may be an anonymous id or an earlier user id."""
        previous = await self.repo.profile_of(USER, previous_id) or await self.repo.profile_of(
            ANONYMOUS, previous_id
        )
        if previous is None:
            return await self.resolve(user_id, previous_id)
        known = await self.repo.profile_of(USER, user_id)
        if known is None:
            await self.repo.link(USER, user_id, previous)
            return previous
        if known != previous:
            await self._merge(previous, known)
        return known
