"""What journeys are doing now, for the console: running enrollments, entries and goal conversions in the
last day and week, and per node of a version how many entered, wait there now and ended there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import NotFound
from engine.journeys.activity_repository import ActivityRepository, Counts
from engine.journeys.repository import JourneyRepository
from engine.reports.repository import ReportRepository
from engine.reports.schemas import FunnelStep


class ActivityCounts(BaseModel):
    """Enrollments that reached a node of the graph, counted as the report's funnel counts them."""

    active: int = Field(description="running now")
    entered_24h: int
    entered_7d: int
    converted_24h: int = Field(description="reached the goal in the last 24 hours")
    converted_7d: int
    entered_total: int
    converted_total: int
    conversion_rate: float | None = Field(description="converted_total / entered_total")


class JourneyActivity(ActivityCounts):
    journey: str
    version: int | None = Field(description="the version the node counts are of")
    nodes: list[FunnelStep]


def _counts(found: Counts) -> ActivityCounts:
    return ActivityCounts(
        active=found.active,
        entered_24h=found.entered_day,
        entered_7d=found.entered_week,
        converted_24h=found.converted_day,
        converted_7d=found.converted_week,
        entered_total=found.total,
        converted_total=found.converted,
        conversion_rate=found.converted / found.total if found.total else None,
    )


class ActivityService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ActivityRepository(session)
        self.journeys = JourneyRepository(session)
        self.reports = ReportRepository(session)

    async def counts(self, journey_ids: Sequence[int]) -> dict[int, ActivityCounts]:
        now = datetime.now(UTC)
        found = await self.repo.counts(journey_ids, now - timedelta(days=1), now - timedelta(days=7))
        return {journey_id: _counts(counts) for journey_id, counts in found.items()}

    async def of(self, key: str, version: int | None) -> JourneyActivity:
        journey = await self.journeys.get(key)
        if journey is None:
            raise NotFound(f"no journey with key {key!r}")
        if version is None:
            latest = await self.journeys.latest_version(journey.id)
            version = latest.version if latest else None
        counts = (await self.counts([journey.id]))[journey.id]
        nodes = await self.reports.funnel(journey.id, version) if version is not None else []
        return JourneyActivity(
            **counts.model_dump(),
            journey=key,
            version=version,
            nodes=[
                FunnelStep(node=node, entered=entered, waiting=waiting, ended=ended)
                for node, entered, waiting, ended in nodes
            ],
        )
