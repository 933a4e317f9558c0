"""Ending an enrollment: once only, and by its own row, however many others are running."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.db.session import autocommit
from engine.enrollments import repository
from engine.enrollments.repository import EnrollmentRepository

ENROLL = (
    "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, status, holdout, started_at)"
    " SELECT :prefix || n, 'w' || n, j.id, 1, 'p' || n, :status, false, now()"
    " FROM generate_series(1, :n) n, journeys j"
)


async def test_an_enrollment_ends_once_and_is_found_by_id_while_many_run(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        await autocommit(session)
        await session.execute(
            text("INSERT INTO journeys (key, name, status) VALUES ('cart', 'Cart', 'live')")
        )
        # Statistics taken when nothing ran (a new install, a quiet night), then a busy day starts.
        await session.execute(text(ENROLL), {"prefix": "old", "status": "completed", "n": 2000})
        await session.execute(text("ANALYZE enrollments"))
        await session.execute(text(ENROLL), {"prefix": "run", "status": "active", "n": 500})

        plan = "\n".join(
            (
                await session.execute(
                    text(f"EXPLAIN {repository._FINISH.text}"),
                    {
                        "steps": "[]",
                        "enrollment_id": "run7",
                        "final": "completed",
                        "node": "done",
                        "ended": None,
                    },
                )
            ).scalars()
        )
        assert "pk_enrollments" in plan, plan
        assert "ix_enrollments_active_profile" not in plan, plan

        repo = EnrollmentRepository(session)
        first, second = datetime(2026, 12, 3, 10, tzinfo=UTC), datetime(2026, 12, 3, 11, tzinfo=UTC)
        await repo.finish("run7", "exited:goal", "thanks", first)
        await repo.finish("run7", "completed", "done", second)  # a retried or late finish changes nothing
        row = (
            await session.execute(
                text("SELECT status, current_node, ended_at FROM enrollments WHERE id = 'run7'")
            )
        ).one()
        assert tuple(row) == ("exited:goal", "thanks", first)
        running = await session.execute(text("SELECT count(*) FROM enrollments WHERE status = 'active'"))
        assert running.scalar_one() == 499
