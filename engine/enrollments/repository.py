"""SQL for enrollments, their steps, exposures and outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.experiment_tables import Exposure
from engine.db.models import Delivery, Enrollment, EnrollmentStep, Journey

# Steps are written with what follows them (the enrollment's move or finish) in one statement: in autocommit
# that is one round trip, where an INSERT per step and an UPDATE in a transaction took four or more.
# `:steps` is a JSON array of the steps (one per key: ON CONFLICT may not touch a row twice in a statement).
_STEP_ROWS = (
    "INSERT INTO enrollment_steps (enrollment_id, node_id, visit, node_type, decision, entered_at)"
    " SELECT s.* FROM jsonb_to_recordset(CAST(:steps AS jsonb)) AS s(enrollment_id text, node_id text,"
    " visit integer, node_type text, decision jsonb, entered_at timestamptz)"
)
_ON_CONFLICT = " ON CONFLICT (enrollment_id, node_id, visit) DO UPDATE SET decision = excluded.decision"
_MOVE = text(
    f"WITH steps AS ({_STEP_ROWS}{_ON_CONFLICT})"
    " UPDATE enrollments SET current_node = :node WHERE id = :enrollment_id"
)
# Only a running enrollment ends: its row has no ended_at yet (ended_at and status are set together, here).
# Not `status = 'active'`: that is ix_enrollments_active_profile's predicate, and with statistics from when
# few enrollments were running the planner read that whole index for the id, a row per running enrollment.
# Once ended, nothing changes, steps included: a late or retried finish (the send that carried the end,
# contracts.Closing, run again) would otherwise rewrite their decisions. The row lock orders racing ones;
# the UPDATE asks for `open` so it is read (and locks) first: run after the UPDATE it would find nothing.
_FINISH = text(
    "WITH open AS (SELECT id FROM enrollments WHERE id = :enrollment_id AND ended_at IS NULL FOR UPDATE),"
    f" steps AS ({_STEP_ROWS} WHERE EXISTS (SELECT FROM open){_ON_CONFLICT})"
    " UPDATE enrollments SET status = :final, current_node = :node, ended_at = :ended"
    " WHERE id = :enrollment_id AND ended_at IS NULL AND EXISTS (SELECT FROM open)"
)
# Whether the enrollment has its row; also a column of SignalRepository.read_person (begin_enrollment's
# check and the start node's profile read in one round trip).
RECORDED_SQL = "EXISTS (SELECT 1 FROM enrollments WHERE id = :enrollment_id)"
_RECORDED = text(f"SELECT {RECORDED_SQL}")
_LOCKED_PREVIOUS = select(Enrollment).from_statement(
    text("SELECT * FROM enrollment_entry_previous(:journey_id, :profile_id, :correlation)")
)

# The person's profile ids are collected once (an InitPlan), then looked up in the partial index of active
# enrollments. Written as `profile_id IN (SELECT ...)`, PostgreSQL planned a nested loop rescanning profiles
# once per active enrollment whenever its statistics said few were active (a fresh or a growing table), on
# the path of every routed event. The person's row is locked FOR SHARE for the routing transaction: an
# erasure (which locks it FOR UPDATE) waits for the event's routing to finish, and routing that comes
# after the erasure finds nobody, so starts nothing and credits nothing.
_ACTIVE_FOR_PERSON = select(Enrollment).from_statement(
    text(
        "WITH person AS (SELECT id FROM profiles WHERE id = :profile_id FOR SHARE)"
        " SELECT * FROM enrollments WHERE status = 'active' AND profile_id = ANY(ARRAY("
        "SELECT id FROM profiles WHERE id IN (SELECT id FROM person)"
        " OR merged_into IN (SELECT id FROM person)))"
    )
)
# The latest enrollment of (journey, person, correlation), across the profiles merged into the person.
_PREVIOUS = select(Enrollment).from_statement(
    text(
        "SELECT * FROM enrollments WHERE journey_id = :journey_id AND profile_id = ANY(ARRAY("
        "SELECT CAST(:profile_id AS text) UNION ALL SELECT id FROM profiles WHERE merged_into = :profile_id))"
        " AND correlation IS NOT DISTINCT FROM :correlation"
        " ORDER BY status = 'active' DESC, started_at DESC LIMIT 1"
    )
)


class EnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_entry(
        self, journey_id: int, profile_id: str, correlation: str | None
    ) -> Enrollment | None:
        """Serialises admissions of one (journey, profile, correlation) until the transaction ends, so
        the re-entry policy is decided on a consistent picture even if two entries race; returns
        `previous` as read under that lock, among the enrollments of the profile and of every profile
        merged into it (one round trip: the function of migrations 0013 and 0016)."""
        params = {"journey_id": journey_id, "profile_id": profile_id, "correlation": correlation}
        return (await self.session.execute(_LOCKED_PREVIOUS, params)).scalar_one_or_none()

    async def get(self, enrollment_id: str) -> Enrollment | None:
        return await self.session.get(Enrollment, enrollment_id)

    async def recorded(self, enrollment_id: str) -> bool:
        """Whether the enrollment has its row: asked by every enrollment as it begins, so a plain EXISTS
        rather than loading an ORM object (identity map, loader) for a yes."""
        found = await self.session.execute(_RECORDED, {"enrollment_id": enrollment_id})
        return bool(found.scalar_one())

    async def active_for_person(self, profile_id: str) -> Sequence[Enrollment]:
        """Running enrollments of the profile and of every profile merged into it."""
        return (await self.session.execute(_ACTIVE_FOR_PERSON, {"profile_id": profile_id})).scalars().all()

    async def of_profiles(self, profile_ids: Sequence[str]) -> Sequence[Enrollment]:
        query = select(Enrollment).where(Enrollment.profile_id.in_(profile_ids))
        return (await self.session.execute(query)).scalars().all()

    async def previous(self, journey_id: int, profile_id: str, correlation: str | None) -> Enrollment | None:
        """The active enrollment of (journey, person, correlation) if there is one, else the latest."""
        return (
            await self.session.execute(
                _PREVIOUS, {"journey_id": journey_id, "profile_id": profile_id, "correlation": correlation}
            )
        ).scalar_one_or_none()

    async def add(self, enrollment: Enrollment) -> None:
        self.session.add(enrollment)
        await self.session.flush()

    async def move_to(self, enrollment_id: str, node: str, steps: Sequence[dict[str, Any]] = ()) -> None:
        """The enrollment's current node, with the steps that led there not yet written (one statement).
        Steps are (enrollment_id, node_id, visit, node_type, decision, entered_at); a visit recorded twice
        (waiting, then decided) keeps the later decision."""
        params = {"steps": _unique(steps), "enrollment_id": enrollment_id, "node": node}
        await self.session.execute(_MOVE, params)

    async def record_exposure(self, values: dict[str, Any]) -> None:
        await self.session.execute(
            insert(Exposure)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["enrollment_id", "node_id"])
        )

    async def finish(
        self,
        enrollment_id: str,
        status: str,
        node: str | None,
        ended: datetime,
        steps: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Ends an active enrollment (a no-op once ended), with its steps not yet written (one statement)."""
        params = {"steps": _unique(steps), "enrollment_id": enrollment_id, "final": status, "node": node}
        await self.session.execute(_FINISH, {**params, "ended": ended})

    async def close_gone(self, enrollment: Enrollment, ended_at: datetime) -> None:
        """Closes an active enrollment whose workflow no longer exists, as exited:operator (a no-op if
        it ended meanwhile: finish only closes active rows)."""
        await self.finish(enrollment.id, "exited:operator", enrollment.current_node, ended_at)
        self.session.expire(enrollment)  # updated beside the identity map: the next read reloads it

    async def list(
        self,
        *,
        journey_id: int | None = None,
        profile_ids: Sequence[str] | None = None,
        status: str | None = None,
        node: str | None = None,
        limit: int = 100,
    ) -> Sequence[tuple[Enrollment, str]]:
        query = select(Enrollment, Journey.key).join(Journey, Journey.id == Enrollment.journey_id)
        if journey_id is not None:
            query = query.where(Enrollment.journey_id == journey_id)
        if profile_ids is not None:
            query = query.where(Enrollment.profile_id.in_(profile_ids))
        if status is not None:
            query = query.where(Enrollment.status == status)
        if node is not None:
            query = query.where(Enrollment.current_node == node)
        rows = await self.session.execute(query.order_by(Enrollment.started_at.desc()).limit(limit))
        return [(row[0], row[1]) for row in rows]

    async def detail(self, enrollment_id: str) -> tuple[Enrollment, str] | None:
        query = (
            select(Enrollment, Journey.key)
            .join(Journey, Journey.id == Enrollment.journey_id)
            .where(Enrollment.id == enrollment_id)
        )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def steps(self, enrollment_id: str) -> Sequence[EnrollmentStep]:
        query = (
            select(EnrollmentStep)
            .where(EnrollmentStep.enrollment_id == enrollment_id)
            .order_by(EnrollmentStep.entered_at, EnrollmentStep.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def deliveries(self, enrollment_id: str) -> Sequence[Delivery]:
        query = select(Delivery).where(Delivery.enrollment_id == enrollment_id).order_by(Delivery.id)
        return (await self.session.execute(query)).scalars().all()

    async def exposures(self, enrollment_id: str) -> Sequence[Exposure]:
        query = select(Exposure).where(Exposure.enrollment_id == enrollment_id).order_by(Exposure.id)
        return (await self.session.execute(query)).scalars().all()

    async def active_workflow_ids(self, journey_id: int) -> Sequence[tuple[str, str]]:
        query = select(Enrollment.id, Enrollment.workflow_id).where(
            Enrollment.journey_id == journey_id, Enrollment.status == "active"
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]


def _unique(steps: Sequence[dict[str, Any]]) -> str:
    """The steps as the JSON text the statements expand, the last of each (enrollment, node, visit)."""
    rows = {(s["enrollment_id"], s["node_id"], s["visit"]): s for s in steps}
    return json.dumps(list(rows.values()), default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a step")
