"""The published experiences of each placement, as the decision path reads them: at most every
LIVE_CACHE_SECONDS per process (a query fewer for every decision), at once after a save in this process.
A person's data is never cached: only the definitions."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from engine.experiences.repository import ExperienceRepository, LiveExperience
from engine.outbox.router import LIVE_CACHE_SECONDS


class LiveExperiences:
    def __init__(self) -> None:
        self._loaded: dict[tuple[str, ...], tuple[float, list[LiveExperience]]] = {}

    async def of(self, session: AsyncSession, placements: list[str]) -> list[LiveExperience]:
        key = tuple(sorted(set(placements)))
        found = self._loaded.get(key)
        if found is None or time.monotonic() - found[0] > LIVE_CACHE_SECONDS:
            found = (time.monotonic(), await ExperienceRepository(session).live(list(key)))
            if len(self._loaded) > 1000:  # placements come from the request: keep the cache bounded
                self._loaded.clear()
            self._loaded[key] = found
        return found[1]

    def forget(self) -> None:
        self._loaded.clear()
