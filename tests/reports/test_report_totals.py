"""The report's totals (migration 0011) are kept by triggers: after any write to exposures, outcomes,
enrollments or their steps they must equal the figures computed from the rows themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.db.session import create_engine, create_sessionmaker
from engine.enrollments.repository import EnrollmentRepository
from engine.journeys.bundled import EXAMPLES
from engine.journeys.service import JourneyService
from engine.profiles.repository import ErasureRepository
from engine.settings import Settings
from runtime import migrate
from runtime.devstack.postgres import EmbeddedPostgres

FROM_ROWS = {
    "exposures": "SELECT journey_id, version, node_id, variant, count(*) FROM exposures GROUP BY 1, 2, 3, 4",
    "entries": "SELECT e.journey_id, e.version, s.node_id, count(DISTINCT s.enrollment_id)"
    " FROM enrollment_steps s JOIN enrollments e ON e.id = s.enrollment_id GROUP BY 1, 2, 3",
    "positions": "SELECT journey_id, version, current_node, status, count(*) FROM enrollments"
    " WHERE current_node IS NOT NULL GROUP BY 1, 2, 3, 4",
    "outcomes": (
        "SELECT journey_id, version, node_id, variant, goal, count(*), sum(value), sum(value * value) FROM ("
        " SELECT journey_id, version, node_id, variant, goal, exposure_id, sum(value) AS value FROM outcomes"
        " WHERE exposure_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6) per_exposure GROUP BY 1, 2, 3, 4, 5"
    ),
}
KEPT = {  # summed over slots
    "exposures": "SELECT journey_id, version, node_id, variant, sum(exposures) FROM variant_exposure_totals"
    " GROUP BY 1, 2, 3, 4 HAVING sum(exposures) <> 0",
    "outcomes": "SELECT journey_id, version, node_id, variant, goal, sum(conversions), sum(revenue),"
    " sum(revenue_squares) FROM variant_outcome_totals GROUP BY 1, 2, 3, 4, 5"
    " HAVING sum(conversions) <> 0 OR sum(revenue) <> 0 OR sum(revenue_squares) <> 0",
    "entries": "SELECT journey_id, version, node_id, sum(entered) FROM node_entry_totals GROUP BY 1, 2, 3"
    " HAVING sum(entered) <> 0",
    "positions": "SELECT journey_id, version, node_id, status, sum(enrollments) FROM node_status_totals"
    " GROUP BY 1, 2, 3, 4 HAVING sum(enrollments) <> 0",
}
TOTALS_TABLES = (
    "variant_exposure_totals",
    "variant_outcome_totals",
    "node_entry_totals",
    "node_status_totals",
)
OUTCOME = (
    "INSERT INTO outcomes (journey_id, exposure_id, profile_id, goal, value, source, external_id,"
    " occurred_at, version, node_id, variant, exposed_at) SELECT journey_id, id, profile_id, :goal, :value,"
    " 'offline', :ext, now(), version, node_id, variant, exposed_at FROM exposures WHERE id = ANY(:ids)"
)


async def publish(session: AsyncSession) -> int:
    document = yaml.safe_load((EXAMPLES / "abandoned-cart.yaml").read_text())
    await JourneyService(session).publish("abandoned-cart", document, "test")
    return int((await session.execute(text("SELECT id FROM journeys"))).scalar_one())


async def expose(session: AsyncSession, journey: int, rows: list[tuple[int, str, str, str]]) -> list[int]:
    """rows: (version, node, variant, profile); one INSERT statement for all of them."""
    values = ", ".join(f"(:e{i}, :j, :v{i}, :n{i}, :x{i}, :p{i}, now())" for i in range(len(rows)))
    params: dict[str, Any] = {"j": journey}
    for i, (version, node, variant, profile) in enumerate(rows):
        params |= {f"e{i}": f"{profile}-{node}", f"v{i}": version, f"n{i}": node, f"x{i}": variant}
        params[f"p{i}"] = profile
    inserted = await session.execute(
        text(
            "INSERT INTO exposures (enrollment_id, journey_id, version, node_id, variant, profile_id,"
            f" exposed_at) VALUES {values} RETURNING id"
        ),
        params,
    )
    return list(inserted.scalars())


async def enroll(session: AsyncSession, journey: int, ids: list[str], version: int = 1) -> None:
    await session.execute(
        text(
            "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, current_node)"
            " SELECT id, id, :journey, :version, 'p-' || id, 'start' FROM unnest(CAST(:ids AS text[])) id"
        ),
        {"journey": journey, "version": version, "ids": ids},
    )


def step(enrollment: str, node: str, visit: int = 1, waiting: bool = False) -> dict[str, Any]:
    return {
        "enrollment_id": enrollment,
        "node_id": node,
        "visit": visit,
        "node_type": "wait" if waiting else "send",
        "decision": {"waiting": True} if waiting else {},
        "entered_at": datetime.now(UTC),
    }


async def credit(session: AsyncSession, ids: list[int], goal: str, value: float, ext: str) -> None:
    await session.execute(text(OUTCOME), {"ids": ids, "goal": goal, "value": value, "ext": ext})


async def assert_totals_match_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        for table in FROM_ROWS:
            from_rows = set(map(tuple, (await session.execute(text(FROM_ROWS[table]))).all()))
            kept = set(map(tuple, (await session.execute(text(KEPT[table]))).all()))
            assert kept == from_rows, table


async def test_the_totals_follow_every_kind_of_write(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        journey = await publish(session)
        plan = [(1 + i % 2, "offer" if i % 3 else "__holdout__", f"arm{i % 3}", f"p{i}") for i in range(60)]
        ids = await expose(session, journey, plan)
        ids += await expose(session, journey, [(2, "offer", "arm1", "late")])
    await assert_totals_match_rows(sessionmaker)

    async with sessionmaker() as session, session.begin():
        await credit(session, ids[:20], "order_completed", 40.5, "first")
        await credit(session, ids[10:30], "deal_won", 100, "crm-1")
    async with sessionmaker() as session, session.begin():
        # Two outcomes for one exposure in one statement, then a third later: one conversion, whose
        # value (and square) is the sum of the three.
        await session.execute(
            text(
                "INSERT INTO outcomes (journey_id, exposure_id, goal, value, source, external_id,"
                " occurred_at, version, node_id, variant) SELECT journey_id, id, 'order_completed', v,"
                " 'offline', 'x' || v, now(), version, node_id, variant FROM exposures,"
                " (VALUES (3), (4)) AS t(v) WHERE id = :id"
            ),
            {"id": ids[40]},
        )
    async with sessionmaker() as session, session.begin():
        await credit(session, [ids[40], ids[5]], "order_completed", 2.25, "second")
    await assert_totals_match_rows(sessionmaker)

    async with sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE outcomes SET value = value * 3 WHERE external_id = 'first'"))
        moved = "UPDATE outcomes SET goal = 'deal_won' WHERE exposure_id = :id"
        await session.execute(text(moved), {"id": ids[5]})
        await session.execute(text("DELETE FROM outcomes WHERE exposure_id = :id"), {"id": ids[12]})
    await assert_totals_match_rows(sessionmaker)

    async with sessionmaker() as session, session.begin():
        # Deleting exposures sets their outcomes' exposure_id to NULL: they leave the sums too.
        await session.execute(text("DELETE FROM exposures WHERE id = ANY(:ids)"), {"ids": [ids[0], ids[40]]})
        await session.execute(text("UPDATE exposures SET variant = 'renamed' WHERE id = :id"), {"id": ids[2]})
        await ErasureRepository(session).erase(["p3", "p14"])  # anonymises exposures and outcomes
    await assert_totals_match_rows(sessionmaker)
    async with sessionmaker() as session:
        kept = (await session.execute(text("SELECT count(*) FROM variant_outcome_totals"))).scalar_one()
    assert kept > 0

    await assert_truncating_empties(sessionmaker, "exposures", TOTALS_TABLES[:2])


async def test_the_funnel_totals_follow_enrollments_and_their_steps(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        journey = await publish(session)
        await enroll(session, journey, [f"e{i}" for i in range(30)])
        await enroll(session, journey, ["v2-a", "v2-b"], version=2)
        repo = EnrollmentRepository(session)
        # As the workflow writes them, an enrollment's unwritten steps with its move: a wait recorded as
        # it starts, then decided (same visit), a node visited twice, several steps in one statement.
        for i in range(20):
            await repo.move_to(f"e{i}", "wait", [step(f"e{i}", "wait", waiting=True)])
        for i in range(1, 10):
            await repo.move_to(f"e{i}", "wait", [step(f"e{i}", "wait")])
        await repo.move_to(
            "e0", "wait", [step("e0", "wait"), step("e0", "offer"), step("e0", "wait", visit=2)]
        )
        await repo.move_to("v2-a", "wait", [step("v2-a", "wait")])
        await repo.move_to("v2-b", "offer", [step("v2-b", "offer")])
        await repo.finish("e1", "completed", "offer", datetime.now(UTC))
        await repo.finish("e2", "exited:goal", "wait", datetime.now(UTC))
    await assert_totals_match_rows(sessionmaker)

    async with sessionmaker() as session, session.begin():
        await ErasureRepository(session).erase(["p-e3", "p-v2-a"])
        await session.execute(text("DELETE FROM enrollment_steps WHERE enrollment_id = 'e4'"))
        await session.execute(text("UPDATE enrollments SET status = 'failed' WHERE id = 'e5'"))
    await assert_totals_match_rows(sessionmaker)

    await assert_truncating_empties(sessionmaker, "enrollments", TOTALS_TABLES[2:])


async def test_two_transactions_crediting_one_exposure_count_one_conversion(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        journey = await publish(session)
        [exposure] = await expose(session, journey, [(1, "offer", "discount", "ann")])

    async def second() -> None:
        async with sessionmaker() as session, session.begin():
            await credit(session, [exposure], "order_completed", 7, "b")

    async with sessionmaker() as first, first.begin():
        await credit(first, [exposure], "order_completed", 10, "a")
        racing = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not racing.done()  # waits for the first transaction's lock on the exposure
    await racing
    async with sessionmaker() as session:
        row = (await session.execute(text(KEPT["outcomes"]))).one()
    assert tuple(row)[4:] == ("order_completed", 1, 17, 289)  # not 2 conversions, 10² + 7²
    await assert_totals_match_rows(sessionmaker)


async def test_the_migration_fills_the_totals_from_existing_rows(postgres: EmbeddedPostgres) -> None:
    admin = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="postgres", database="postgres")
    await admin.execute("DROP DATABASE IF EXISTS totals_backfill")
    await admin.execute("CREATE DATABASE totals_backfill")
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/totals_backfill"
    )
    engine = create_engine(settings)
    try:
        await migrate.upgrade(settings, "0010")
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            journey = await publish(session)
            ids = await expose(session, journey, [(1, "offer", f"arm{i % 2}", f"p{i}") for i in range(10)])
            await credit(session, ids[:6], "order_completed", 12.5, "a")
            await credit(session, ids[:2], "order_completed", 1, "b")
            await enroll(session, journey, ["a", "b", "c"])
            for enrollment in ("a", "b"):
                await EnrollmentRepository(session).move_to(enrollment, "wait", [step(enrollment, "wait")])
            await EnrollmentRepository(session).finish("c", "completed", "done", datetime.now(UTC))
        await engine.dispose()  # the migration alters tables this pool's connections have used
        await migrate.upgrade(settings)
        await assert_totals_match_rows(sessionmaker)
        async with sessionmaker() as session:
            kept = await session.execute(text("SELECT sum(exposures) FROM variant_exposure_totals"))
        assert kept.scalar() == 10
    finally:
        await engine.dispose()
        await admin.execute("DROP DATABASE totals_backfill WITH (FORCE)")
        await admin.close()


async def assert_truncating_empties(
    sessionmaker: async_sessionmaker[AsyncSession], source: str, totals: Sequence[str]
) -> None:
    """The totals kept from `source` are emptied with it (its TRUNCATE trigger)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(text(f"TRUNCATE {source} CASCADE"))
    async with sessionmaker() as session:
        for table in totals:
            assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0
