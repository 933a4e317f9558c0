"""SQL for what journeys are doing now: running, entered and converted enrollments, counted as the
funnel counts them (enrollments that reached a node, holdout included: it walks the graph unmessaged)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# From the totals the triggers of migration 0011 keep: no scan of the enrollments.
_TOTALS = text(
    "SELECT journey_id, coalesce(sum(enrollments), 0),"
    " coalesce(sum(enrollments) FILTER (WHERE status = 'active'), 0),"
    " coalesce(sum(enrollments) FILTER (WHERE status = 'exited:goal'), 0)"
    " FROM node_status_totals WHERE journey_id = ANY(:ids) GROUP BY 1"
)
# Windows read ix_enrollments_journey_started and ix_enrollments_journey_converted (migration 0020).
_ENTERED = text(
    "SELECT journey_id, count(*) FILTER (WHERE started_at >= :day), count(*) FROM enrollments"
    " WHERE journey_id = ANY(:ids) AND started_at >= :week AND current_node IS NOT NULL GROUP BY 1"
)
_CONVERTED = text(
    "SELECT journey_id, count(*) FILTER (WHERE ended_at >= :day), count(*) FROM enrollments"
    " WHERE journey_id = ANY(:ids) AND status = 'exited:goal' AND ended_at >= :week"
    " AND current_node IS NOT NULL GROUP BY 1"
)


@dataclass
class Counts:
    total: int = 0
    active: int = 0
    converted: int = 0
    entered_day: int = 0
    entered_week: int = 0
    converted_day: int = 0
    converted_week: int = 0


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self, journey_ids: Sequence[int], day: datetime, week: datetime) -> dict[int, Counts]:
        found = {journey_id: Counts() for journey_id in journey_ids}
        ids = list(journey_ids)
        for journey_id, total, active, converted in await self.session.execute(_TOTALS, {"ids": ids}):
            counts = found[journey_id]
            counts.total, counts.active, counts.converted = int(total), int(active), int(converted)
        window = {"ids": ids, "day": day, "week": week}
        for journey_id, in_day, in_week in await self.session.execute(_ENTERED, window):
            found[journey_id].entered_day, found[journey_id].entered_week = in_day, in_week
        for journey_id, in_day, in_week in await self.session.execute(_CONVERTED, window):
            found[journey_id].converted_day, found[journey_id].converted_week = in_day, in_week
        return found
