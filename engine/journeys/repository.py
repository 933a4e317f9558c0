"""SQL for journeys and their immutable versions. Only this module talks to these tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Journey, JourneyVersion


@dataclass(frozen=True)
class JourneyRef:
    """A journey's identity as plain data: kept across transactions (routing's cache), where an ORM object
    would be expired by the first rollback and fail everyone who reads it after."""

    id: int
    key: str


class JourneyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str, *, for_update: bool = False) -> Journey | None:
        query = select(Journey).where(Journey.key == key)
        if for_update:
            # Serialises publishes of one journey, so two racing publishes cannot both become version n+1.
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_or_create_locked(self, key: str, name: str) -> Journey:
        await self.session.execute(
            insert(Journey).values(key=key, name=name).on_conflict_do_nothing(index_elements=[Journey.key])
        )
        journey = await self.get(key, for_update=True)
        assert journey is not None
        return journey

    async def list(self, status: str | None) -> Sequence[tuple[Journey, int | None]]:
        latest = (
            select(JourneyVersion.journey_id, func.max(JourneyVersion.version).label("latest"))
            .group_by(JourneyVersion.journey_id)
            .subquery()
        )
        query = select(Journey, latest.c.latest).outerjoin(latest, latest.c.journey_id == Journey.id)
        if status is not None:
            query = query.where(Journey.status == status)
        rows = await self.session.execute(query.order_by(Journey.key))
        return [(row[0], row[1]) for row in rows]

    async def latest_version(self, journey_id: int) -> JourneyVersion | None:
        query = (
            select(JourneyVersion)
            .where(JourneyVersion.journey_id == journey_id)
            .order_by(JourneyVersion.version.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def versions(self, journey_id: int) -> Sequence[JourneyVersion]:
        query = (
            select(JourneyVersion)
            .where(JourneyVersion.journey_id == journey_id)
            .order_by(JourneyVersion.version)
        )
        return (await self.session.execute(query)).scalars().all()

    async def version(self, journey_id: int, number: int) -> JourneyVersion | None:
        query = select(JourneyVersion).where(
            JourneyVersion.journey_id == journey_id, JourneyVersion.version == number
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def version_by_id(self, journey_id: int, number: int) -> JourneyVersion:
        query = select(JourneyVersion).where(
            JourneyVersion.journey_id == journey_id, JourneyVersion.version == number
        )
        return (await self.session.execute(query)).scalar_one()

    async def live_with_latest_version(self) -> Sequence[tuple[Journey, int]]:
        latest = func.max(JourneyVersion.version)
        query = (
            select(Journey, latest)
            .join(JourneyVersion, JourneyVersion.journey_id == Journey.id)
            .where(Journey.status == "live")
            .group_by(Journey.id)
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def goal_events(self) -> set[str]:
        query = select(JourneyVersion.definition["goal"]["event"].astext).distinct()
        return {row for row in (await self.session.execute(query)).scalars() if row}

    async def add_version(
        self, journey: Journey, number: int, definition: dict[str, Any], checksum: str, author: str
    ) -> JourneyVersion:
        version = JourneyVersion(
            journey_id=journey.id, version=number, definition=definition, checksum=checksum, author=author
        )
        self.session.add(version)
        await self.session.flush()
        return version

    async def touch(self, journey: Journey) -> None:
        journey.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(journey)
