"""SQL for experiences: definitions and versions, the live ones of a placement, sticky assignments and
decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import Experience, ExperienceAssignment, ExperienceDecision, ExperienceVersion
from engine.db.session import driver_fetch
from engine.reports.repository import VariantTotals
from engine.signals.numbers import numeric_sql

_LIVE = text(  # on a driver connection: the decision path's statements skip SQLAlchemy's layers
    "SELECT DISTINCT ON (x.id) x.id, x.key, v.version, v.checksum, v.definition FROM experiences x"
    " JOIN experience_versions v ON v.experience_id = x.id WHERE x.placement = ANY(:placements)"
    " ORDER BY x.id, v.version DESC"
)


_PAID, _TOTAL = numeric_sql("e.properties->>'revenue'"), numeric_sql("e.properties->>'total'")
# Per variation of a split: people exposed (their first split decision; a person's merged profiles are one
# person, whose events their survivor holds), those who sent the goal event in the window after it, and the
# goal events' value (Σ and Σ², per person) — as the journey report's totals. The holdout: everyone the
# experience decided for, by whether their first decision held them out.
_TOTALS = (
    "WITH first AS (SELECT DISTINCT ON (1) coalesce(p.merged_into, p.id) AS person, {arm} AS variation,"
    " d.decided_at FROM experience_decisions d JOIN profiles p ON p.id = d.profile_id"
    " WHERE d.experience_id = :id {only} ORDER BY 1, d.decided_at),"
    " person AS (SELECT f.variation, count(e.id) AS goals,"
    f" coalesce(sum(coalesce({_PAID}, {_TOTAL})), 0) AS value FROM first f"
    " LEFT JOIN events e ON e.profile_id = f.person AND e.name_key = :goal"
    " AND e.timestamp > f.decided_at AND e.timestamp <= f.decided_at + make_interval(secs => :within)"
    " GROUP BY f.person, f.variation)"
    " SELECT variation, count(*), count(*) FILTER (WHERE goals > 0), sum(value), sum(value * value)"
    " FROM person GROUP BY 1"
)
_SPLIT_TOTALS = text(_TOTALS.format(arm="d.variation", only="AND d.reason = 'split'"))
_HOLDOUT_TOTALS = text(
    _TOTALS.format(arm="CASE WHEN d.reason = 'holdout' THEN 'holdout' ELSE 'treatment' END", only="")
)


_DECISION_KEYS = ("id", "experience_id", "version", "profile_id", "variation", "reason", "decided_at")
# Stored from the journal, perhaps twice (ids already stored are skipped), perhaps after the person was
# erased in the meantime (their decision goes with them, as their stored ones did).
_STORE = text(
    "INSERT INTO experience_decisions (id, experience_id, version, profile_id, variation, reason, decided_at)"
    " SELECT d.* FROM unnest(CAST(:id AS text[]), CAST(:experience_id AS bigint[]), CAST(:version AS int[]),"
    " CAST(:profile_id AS text[]), CAST(:variation AS text[]), CAST(:reason AS text[]),"
    " CAST(:decided_at AS timestamptz[])) AS d(id, experience_id, version, profile_id, variation, reason,"
    " decided_at) WHERE EXISTS (SELECT 1 FROM profiles p WHERE p.id = d.profile_id)"
    " AND EXISTS (SELECT 1 FROM experiences x WHERE x.id = d.experience_id)"
    " ON CONFLICT (id) DO NOTHING"
)


@dataclass(frozen=True)
class LiveExperience:
    id: int
    key: str
    version: int
    checksum: str
    definition: dict[str, Any]


class ExperienceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> Experience | None:
        return (
            await self.session.execute(select(Experience).where(Experience.key == key))
        ).scalar_one_or_none()

    async def create_locked(self, key: str, placement: str) -> Experience:
        statement = insert(Experience).values(key=key, placement=placement).on_conflict_do_nothing()
        await self.session.execute(statement)
        query = select(Experience).where(Experience.key == key).with_for_update()
        return (await self.session.execute(query)).scalar_one()

    async def latest(self, experience_id: int) -> ExperienceVersion | None:
        query = (
            select(ExperienceVersion)
            .where(ExperienceVersion.experience_id == experience_id)
            .order_by(ExperienceVersion.version.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_version(
        self, experience: Experience, version: int, definition: dict[str, Any], checksum: str
    ) -> None:
        self.session.add(
            ExperienceVersion(
                experience_id=experience.id, version=version, definition=definition, checksum=checksum
            )
        )
        experience.placement = definition["placement"]
        experience.updated_at = func.now()
        await self.session.flush()

    async def listed(self) -> Sequence[tuple[Experience, ExperienceVersion]]:
        latest = (
            select(ExperienceVersion.experience_id, func.max(ExperienceVersion.version).label("version"))
            .group_by(ExperienceVersion.experience_id)
            .subquery()
        )
        query = (
            select(Experience, ExperienceVersion)
            .join(latest, latest.c.experience_id == Experience.id)
            .join(
                ExperienceVersion,
                (ExperienceVersion.experience_id == Experience.id)
                & (ExperienceVersion.version == latest.c.version),
            )
            .order_by(Experience.key)
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def live(self, placements: list[str]) -> list[LiveExperience]:
        rows = await driver_fetch(self.session, _LIVE, {"placements": placements})
        return sorted((LiveExperience(*row) for row in rows), key=lambda x: x.key)

    async def assignments(self, experience_id: int, profile_ids: list[str]) -> list[str]:
        """What this person (any of their merged profiles) was assigned, first first."""
        query = (
            select(ExperienceAssignment.variation)
            .where(
                ExperienceAssignment.experience_id == experience_id,
                ExperienceAssignment.profile_id.in_(profile_ids),
            )
            .order_by(ExperienceAssignment.assigned_at)
        )
        return list((await self.session.execute(query)).scalars())

    async def assign(self, experience_id: int, profile_id: str, variation: str, replacing: str) -> None:
        """Stored unless the profile has an assignment already, other than `replacing`."""
        statement = insert(ExperienceAssignment).values(
            experience_id=experience_id, profile_id=profile_id, variation=variation
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ExperienceAssignment.experience_id, ExperienceAssignment.profile_id],
                set_={"variation": variation},
                where=ExperienceAssignment.variation == replacing,
            )
        )

    async def shown_since(
        self, experience_id: int, profile_ids: list[str], since: datetime, besides: list[str]
    ) -> int:
        """Stored decisions for this person since `since`, other than those with ids `besides`."""
        query = select(func.count()).where(
            ExperienceDecision.experience_id == experience_id,
            ExperienceDecision.profile_id.in_(profile_ids),
            ExperienceDecision.decided_at > since,
            ExperienceDecision.id.not_in(besides),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def totals(
        self, experience_id: int, arm: Literal["split", "holdout"], goal: str, within_seconds: float
    ) -> list[VariantTotals]:
        statement = _SPLIT_TOTALS if arm == "split" else _HOLDOUT_TOTALS
        rows = await self.session.execute(
            statement, {"id": experience_id, "goal": goal, "within": within_seconds}
        )
        return [
            VariantTotals(arm, variation, int(n), int(converted), float(value), float(squares))
            for variation, n, converted, value, squares in rows
        ]

    async def counts(self, experience_id: int, since: datetime) -> dict[str, int]:
        """Decisions shown since `since`, by variation."""
        query = (
            select(ExperienceDecision.variation, func.count())
            .where(ExperienceDecision.experience_id == experience_id, ExperienceDecision.decided_at > since)
            .group_by(ExperienceDecision.variation)
        )
        return {variation: int(n) for variation, n in await self.session.execute(query)}

    async def store(self, decisions: list[dict[str, Any]]) -> None:
        columns = {key: [d[key] for d in decisions] for key in _DECISION_KEYS}
        await self.session.execute(_STORE, columns)
