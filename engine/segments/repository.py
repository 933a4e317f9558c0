"""SQL for segments: definitions and versions, members, and the history of entries and exits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import Segment, SegmentChange, SegmentMember, SegmentVersion

_LATEST = text(
    "SELECT DISTINCT ON (s.id) s.id, s.key, v.version, v.condition FROM segments s"
    " JOIN segment_versions v ON v.segment_id = s.id ORDER BY s.id, v.version DESC"
)


@dataclass(frozen=True)
class LiveSegment:
    id: int
    key: str
    version: int
    condition: dict[str, Any]


class SegmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str, *, for_update: bool = False) -> Segment | None:
        query = select(Segment).where(Segment.key == key)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def create(self, key: str, name: str, description: str | None) -> Segment:
        statement = upsert(Segment).values(key=key, name=name, description=description)
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=[Segment.key]))
        found = await self.get(key, for_update=True)
        assert found is not None
        return found

    async def latest_version(self, segment_id: int) -> SegmentVersion | None:
        query = (
            select(SegmentVersion)
            .where(SegmentVersion.segment_id == segment_id)
            .order_by(SegmentVersion.version.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_version(
        self, segment: Segment, version: int, condition: dict[str, Any], checksum: str, author: str
    ) -> None:
        self.session.add(
            SegmentVersion(
                segment_id=segment.id, version=version, condition=condition, checksum=checksum, author=author
            )
        )
        segment.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(segment)

    async def count(self, segment_id: int) -> int:
        query = select(func.count()).select_from(SegmentMember).where(SegmentMember.segment_id == segment_id)
        return int((await self.session.execute(query)).scalar_one())

    async def listed(self) -> Sequence[tuple[Segment, SegmentVersion, int]]:
        """Every segment with its latest version and how many members it has now."""
        latest = (
            select(SegmentVersion.segment_id, func.max(SegmentVersion.version).label("version"))
            .group_by(SegmentVersion.segment_id)
            .subquery()
        )
        members = (
            select(SegmentMember.segment_id, func.count().label("members"))
            .group_by(SegmentMember.segment_id)
            .subquery()
        )
        query = (
            select(Segment, SegmentVersion, func.coalesce(members.c.members, 0))
            .join(latest, latest.c.segment_id == Segment.id)
            .join(
                SegmentVersion,
                (SegmentVersion.segment_id == Segment.id) & (SegmentVersion.version == latest.c.version),
            )
            .outerjoin(members, members.c.segment_id == Segment.id)
            .order_by(Segment.key)
        )
        return [(row[0], row[1], int(row[2])) for row in await self.session.execute(query)]

    async def live(self) -> list[LiveSegment]:
        return [LiveSegment(*row) for row in await self.session.execute(_LATEST)]

    async def keys_of(self, profile_id: str) -> list[str]:
        query = (
            select(Segment.key)
            .join(SegmentMember, SegmentMember.segment_id == Segment.id)
            .where(SegmentMember.profile_id == profile_id)
        )
        return list((await self.session.execute(query)).scalars())

    async def memberships(self, profile_id: str) -> set[int]:
        query = select(SegmentMember.segment_id).where(SegmentMember.profile_id == profile_id)
        return set((await self.session.execute(query)).scalars())

    async def enter(self, segment: LiveSegment, profile_id: str, at: datetime) -> bool:
        """Adds the member and its history row; False if they were a member already (a retry)."""
        statement = (
            upsert(SegmentMember)
            .values(segment_id=segment.id, profile_id=profile_id, since=at)
            .on_conflict_do_nothing()
            .returning(SegmentMember.profile_id)
        )
        if (await self.session.execute(statement)).first() is None:
            return False
        await self._change(segment, profile_id, "entered", at)
        return True

    async def exit(self, segment: LiveSegment, profile_id: str, at: datetime) -> bool:
        statement = (
            delete(SegmentMember)
            .where(SegmentMember.segment_id == segment.id, SegmentMember.profile_id == profile_id)
            .returning(SegmentMember.profile_id)
        )
        if (await self.session.execute(statement)).first() is None:
            return False
        await self._change(segment, profile_id, "exited", at)
        return True

    async def _change(self, segment: LiveSegment, profile_id: str, change: str, at: datetime) -> None:
        await self.session.execute(
            insert(SegmentChange).values(
                segment_id=segment.id, profile_id=profile_id, change=change, version=segment.version, at=at
            )
        )

    async def members(self, segment_id: int, after: str, limit: int) -> Sequence[SegmentMember]:
        query = (
            select(SegmentMember)
            .where(SegmentMember.segment_id == segment_id, SegmentMember.profile_id > after)
            .order_by(SegmentMember.profile_id)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def changes(self, segment_id: int, before: int | None, limit: int) -> Sequence[SegmentChange]:
        query = select(SegmentChange).where(SegmentChange.segment_id == segment_id)
        if before is not None:
            query = query.where(SegmentChange.id < before)
        query = query.order_by(SegmentChange.id.desc()).limit(limit)
        return (await self.session.execute(query)).scalars().all()
