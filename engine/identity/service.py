"""Identity resolution: `userId` and `anonymousId` values map to one profile; identify/alias link them,
and when both already had profiles, the anonymous one is merged into the known one."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.repository import ConsentRepository
from engine.identity.repository import IdentityRepository

USER, ANONYMOUS = "user_id", "anonymous_id"


Pair = tuple[str | None, str | None]


def _keys(pairs: list[Pair]) -> list[tuple[str, str]]:
    return list(dict.fromkeys([(USER, u) for u, _ in pairs if u] + [(ANONYMOUS, a) for _, a in pairs if a]))


def _lookup(pair: Pair, known: dict[tuple[str, str], str]) -> tuple[str | None, str | None]:
    """(profile by userId, profile by anonymousId), each None when unknown or not given."""
    user_id, anonymous_id = pair
    return (
        known.get((USER, user_id)) if user_id else None,
        known.get((ANONYMOUS, anonymous_id)) if anonymous_id else None,
    )


def _settled(pair: Pair, known: dict[tuple[str, str], str]) -> str | None:
    """The profile of a pair that needs no link or merge, or None."""
    user_id, anonymous_id = pair
    by_user, by_visitor = _lookup(pair, known)
    if by_user and (anonymous_id is None or by_visitor == by_user):
        return by_user
    if by_visitor and user_id is None:
        return by_visitor
    return None


@dataclass
class Lookup:
    known: dict[tuple[str, str], str]
    settled: dict[Pair, str] = field(default_factory=dict)
    unsettled: list[Pair] = field(default_factory=list)


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
        return (await self.resolve_many([(user_id, anonymous_id)]))[(user_id, anonymous_id)]

    async def lookup(self, pairs: list[Pair]) -> Lookup:
        """One read: the profiles of the pairs that need no new profile, link or merge, and the others."""
        known = await self.repo.profiles_of(_keys(pairs))
        found = Lookup(known=known)
        for pair in dict.fromkeys(pairs):
            settled = _settled(pair, known)
            if settled is None:
                found.unsettled.append(pair)
            else:
                found.settled[pair] = settled
        return found

    async def resolve_many(self, pairs: list[Pair]) -> dict[Pair, str]:
        """Profiles for many (userId, anonymousId) pairs, in a handful of statements however many there
        are: one query when everyone is known and consistent; for the others, their ids locked and read
        again, new profiles and links written together, merges (rare) one at a time, in order."""
        found = await self.lookup(pairs)
        known, out, unsettled = dict(found.known), dict(found.settled), found.unsettled
        if unsettled:
            keys = _keys(unsettled)
            await self.repo.lock([f"{kind}:{value}" for kind, value in keys])
            known.update(await self.repo.profiles_of(keys))  # what others settled while we waited
            merged = await self._settle(unsettled, known, out)
            for pair, profile_id in out.items():  # pairs resolved before a merge follow it
                while profile_id in merged:
                    profile_id = merged[profile_id]
                out[pair] = profile_id
        return out

    async def _settle(
        self, pairs: list[Pair], known: dict[tuple[str, str], str], out: dict[Pair, str]
    ) -> dict[str, str]:
        """Resolves `pairs` into `out`; returns the merges made, loser → survivor."""
        merged: dict[str, str] = {}
        profiles: list[str] = []
        links: list[tuple[str, str, str]] = []
        for user_id, anonymous_id in pairs:
            by_user, by_visitor = _lookup((user_id, anonymous_id), known)
            if by_user and by_visitor and by_user != by_visitor:
                # Pending profiles and links first, so the merge moves those of the loser too.
                await self.repo.create_profiles(profiles)
                await self.repo.link_many(links)
                profiles, links = [], []
                await self._merge(by_visitor, by_user)
                merged[by_visitor] = by_user
                known = {key: by_user if value == by_visitor else value for key, value in known.items()}
            profile_id = by_user or by_visitor
            if profile_id is None:
                profile_id = new_profile_id(user_id, anonymous_id)
                profiles.append(profile_id)
            if user_id and not by_user:
                links.append((USER, user_id, profile_id))
            if anonymous_id and not by_visitor:
                links.append((ANONYMOUS, anonymous_id, profile_id))
            if user_id:
                known[(USER, user_id)] = profile_id
            if anonymous_id:
                known[(ANONYMOUS, anonymous_id)] = profile_id
            out[(user_id, anonymous_id)] = profile_id
        await self.repo.create_profiles(profiles)
        await self.repo.link_many(links)
        return merged

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
