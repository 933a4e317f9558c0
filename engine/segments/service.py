"""Named segments: a condition defined once, versioned like journeys, its members kept up to date
(engine.segments.membership) and usable in any condition as `{segment: <key>}`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import Segment, SegmentVersion
from engine.errors import InvalidInput, NotFound, Problem
from engine.journeys.documents import checksum
from engine.journeys.evaluate import signals_used
from engine.segments.repository import SegmentRepository
from engine.segments.schemas import Change, Member, SegmentDefinition, SegmentOut, SegmentSaved
from engine.signals.service import SignalService


def _out(segment: Segment, version: SegmentVersion, members: int) -> SegmentOut:
    return SegmentOut(
        key=segment.key,
        name=segment.name,
        description=segment.description,
        version=version.version,
        condition=version.condition,
        members=members,
        updated_at=segment.updated_at,
    )


class SegmentService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = SegmentRepository(session)
        self.signals = SignalService(session)

    async def save(self, key: str, definition: SegmentDefinition, author: str) -> SegmentSaved:
        """A new version when the condition changed (name and description change in place). Members are
        re-evaluated as each person's next event arrives, and by the next sweep for everyone."""
        unknown = sorted(signals_used(definition.condition) - await self.signals.known())
        if unknown:
            raise InvalidInput(
                f"condition: unknown signal {unknown[0]!r}",
                [Problem("condition", f"unknown signal {name!r}") for name in unknown],
            )
        condition = definition.model_dump(mode="json", by_alias=True, exclude_none=True)["condition"]
        digest = checksum(condition)
        segment = await self.repo.create(key, definition.name, definition.description)
        segment.name, segment.description = definition.name, definition.description
        latest = await self.repo.latest_version(segment.id)
        created = latest is None or latest.checksum != digest
        if created:
            await self.repo.add_version(
                segment, (latest.version if latest else 0) + 1, condition, digest, author
            )
            latest = await self.repo.latest_version(segment.id)
        assert latest is not None
        out = _out(segment, latest, await self.repo.count(segment.id))
        return SegmentSaved(**out.model_dump(), created=created)

    async def _require(self, key: str) -> Segment:
        segment = await self.repo.get(key)
        if segment is None:
            raise NotFound(f"no segment with key {key!r}")
        return segment

    async def listed(self) -> list[SegmentOut]:
        return [_out(segment, version, members) for segment, version, members in await self.repo.listed()]

    async def get(self, key: str) -> SegmentOut:
        segment = await self._require(key)
        latest = await self.repo.latest_version(segment.id)
        assert latest is not None
        return _out(segment, latest, await self.repo.count(segment.id))

    async def members(self, key: str, after: str, limit: int) -> list[Member]:
        segment = await self._require(key)
        return [
            Member(profile_id=m.profile_id, since=m.since)
            for m in await self.repo.members(segment.id, after, limit)
        ]

    async def history(self, key: str, before: int | None, limit: int) -> list[Change]:
        segment = await self._require(key)
        return [
            Change(id=c.id, profile_id=c.profile_id, change=c.change, version=c.version, at=c.at)
            for c in await self.repo.changes(segment.id, before, limit)
        ]
