"""SQL for outcomes credited from events after an enrollment ended, and for offline feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.experiment_tables import Exposure, Outcome
from engine.db.models import Enrollment
from engine.profiles.repository import CURRENT_SQL
from engine.signals.numbers import numeric_sql

COLUMNS = [
    "journey_id",
    "exposure_id",
    "profile_id",
    "goal",
    "value",
    "source",
    "external_id",
    "event_id",
    "occurred_at",
    "version",
    "node_id",
    "variant",
    "exposed_at",
]


class OutcomeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exposed_versions(self, profile_ids: Sequence[str]) -> Sequence[tuple[int, int]]:
        query = (
            select(Exposure.journey_id, Exposure.version)
            .where(Exposure.profile_id.in_(profile_ids))
            .distinct()
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def before(
        self, profile_id: str, key: str, value_path: str | None, since: datetime, until: datetime
    ) -> tuple[float, float]:
        """How many events named `key` (engine.events.names) the person had in [since, until), and the
        sum of the number at `value_path` (`properties.…`) in them (engine.signals.numbers' rule). The
        person: the profile's survivor and every profile merged into it, found in the same statement."""
        parts = value_path.split(".") if value_path else []
        value = (
            f"coalesce(sum({numeric_sql('properties #>> CAST(:path AS text[])')}), 0)"
            if parts[:1] == ["properties"] and len(parts) > 1
            else "0"
        )
        row = (
            await self.session.execute(
                text(
                    f"WITH person AS ({CURRENT_SQL}) SELECT count(*), {value} FROM events"
                    " WHERE profile_id = ANY(ARRAY(SELECT p.id FROM profiles p, person"
                    " WHERE p.id = person.id OR p.merged_into = person.id))"
                    " AND name_key = :key AND timestamp >= :since AND timestamp < :until"
                ),
                {
                    "profile_id": profile_id,
                    "key": key,
                    "path": parts[1:],
                    "since": since,
                    "until": until,
                },
            )
        ).one()
        return float(row[0]), float(row[1])

    async def credit(
        self,
        *,
        exposures_of: Sequence[ColumnElement[bool]],
        goal: str,
        value: float,
        occurred_at: datetime,
        within: timedelta | None,
        external_id: str | None = None,
        event_id: str | None = None,
        correlation: str | None = None,
    ) -> int:
        """One outcome per matching exposure exposed before the outcome (and inside the attribution
        window, if any), carrying the exposure's variant; idempotent by its unique indexes (per goal
        event, or per external id)."""
        source = "offline" if external_id else "goal"
        exposures = select(
            Exposure.journey_id,
            Exposure.id,
            Exposure.profile_id,
            literal(goal),
            literal(value),
            literal(source),
            literal(external_id),
            literal(event_id),
            literal(occurred_at),
            Exposure.version,
            Exposure.node_id,
            Exposure.variant,
            Exposure.exposed_at,
        ).where(*exposures_of, Exposure.exposed_at <= occurred_at)
        if within is not None:
            exposures = exposures.where(Exposure.exposed_at >= occurred_at - within)
        if correlation is not None:  # only the enrollments of that cart (say)
            correlated = select(Enrollment.id).where(Enrollment.correlation == correlation)
            exposures = exposures.where(Exposure.enrollment_id.in_(correlated))
        statement = (
            insert(Outcome).from_select(COLUMNS, exposures).on_conflict_do_nothing().returning(Outcome.id)
        )
        return len((await self.session.execute(statement)).all())
