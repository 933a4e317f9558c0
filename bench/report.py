"""Report benchmark: the variant report over N exposures (default 1,000,000), through the HTTP API,
against a baseline of the bare sufficient-statistics SQL on the same database, in the same run. The
report reads the totals the database keeps (migration 0011); asked for a time window it counts the rows,
timed too. Both must give the baseline's exposures and conversions per variant. Each exposure has its
enrollment and their steps (three each; a tenth still waiting), for the report's funnel.

    .venv/bin/python -m bench.report [--exposures 1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg
import httpx
import yaml

from api.app import create_app
from bench.common import embedded_postgres, report, say, summary, timings
from engine.db.session import create_engine, create_sessionmaker
from engine.journeys.bundled import EXAMPLES
from engine.journeys.service import JourneyService
from engine.settings import Settings, to_asyncpg_dsn
from runtime import migrate

# The naive one-statement way to get the same sufficient statistics: exposures LEFT JOIN outcomes.
BASELINE_SQL = """
SELECT x.variant, count(*), count(o.exposure_id),
       coalesce(sum(o.value), 0), coalesce(sum(o.value * o.value), 0)
FROM exposures x LEFT JOIN (SELECT exposure_id, sum(value) AS value FROM outcomes
  WHERE journey_id = $1 AND goal = 'order_completed' GROUP BY exposure_id) o ON o.exposure_id = x.id
WHERE x.journey_id = $1 GROUP BY x.variant
"""
FUNNEL_SQL = """
SELECT s.node_id, count(DISTINCT s.enrollment_id) FROM enrollment_steps s
JOIN enrollments e ON e.id = s.enrollment_id WHERE e.journey_id = $1 GROUP BY s.node_id
"""


async def seed_exposures(connection: asyncpg.Connection, journey_id: int, exposures: int) -> None:
    """abandoned-cart's offer split over 30 days: exposures, ~12% converting, and an enrollment with three
    steps per exposure (a tenth still waiting)."""
    say(f"inserting {exposures:,} exposures and ~12% outcomes")
    await connection.execute(
        "INSERT INTO exposures (enrollment_id, journey_id, version, node_id, variant, profile_id, exposed_at)"
        " SELECT 'e' || g, $1, 1, 'offer', CASE WHEN g % 2 = 0 THEN 'plain_reminder' ELSE 'discount' END,"
        " 'p' || g, now() - (g % 30) * interval '1 day' FROM generate_series(1, $2) g",  # over 30 days
        journey_id,
        exposures,
    )
    await connection.execute(
        "INSERT INTO outcomes (journey_id, exposure_id, profile_id, goal, value, source, occurred_at,"
        " version, node_id, variant, exposed_at) SELECT journey_id, id, profile_id, 'order_completed',"
        " round((random() * 100)::numeric, 2), 'goal', now(), version, node_id, variant, exposed_at"
        " FROM exposures WHERE random() < CASE WHEN variant = 'discount' THEN 0.13 ELSE 0.11 END"
    )
    say(f"inserting {exposures:,} enrollments and {3 * exposures:,} steps")
    await connection.execute(
        "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, status, current_node,"
        " started_at, ended_at) SELECT 'e' || g, 'e' || g, $1, 1, 'p' || g, CASE WHEN g % 10 = 0 THEN"
        " 'active' ELSE 'completed' END, CASE WHEN g % 10 = 0 THEN 'await_order' ELSE 'done' END, now(),"
        " now() FROM generate_series(1, $2) g",
        journey_id,
        exposures,
    )
    await connection.execute(
        "INSERT INTO enrollment_steps (enrollment_id, node_id, visit, node_type, decision, entered_at)"
        " SELECT 'e' || g, node, 1, 'x', '{}'::jsonb, now() FROM generate_series(1, $1) g,"
        " unnest(ARRAY['wait_purchase', 'check_value', 'offer']) node",
        exposures,
    )


def run(exposures: int, repeat: int) -> None:
    with embedded_postgres() as postgres:
        asyncio.run(measure(postgres.url, exposures, repeat))


async def measure(url: str, exposures: int, repeat: int) -> None:
    settings = Settings(database_url=url, temporal_address="127.0.0.1:1", admin_token="bench")
    say("applying migrations")
    await migrate.upgrade(settings)
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        document = yaml.safe_load((EXAMPLES / "abandoned-cart.yaml").read_text())
        await JourneyService(session).publish("abandoned-cart", document, "bench")
    await engine.dispose()
    connection = await asyncpg.connect(to_asyncpg_dsn(url))
    journey_id = await connection.fetchval("SELECT id FROM journeys")
    await seed_exposures(connection, journey_id, exposures)
    await connection.execute("VACUUM ANALYZE")
    say(f"timing the bare SQL ({repeat} runs)")
    baseline = await timings(lambda: connection.fetch(BASELINE_SQL, journey_id), repeat)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        headers = {"Authorization": "Bearer bench"}

        async def figures(query: str) -> dict[str, tuple[int, int]]:
            response = await client.get(f"/api/journeys/abandoned-cart/report{query}", headers=headers)
            response.raise_for_status()
            [split] = response.json()["splits"]
            return {v["variant"]: (v["exposures"], v["conversions"]) for v in split["variants"]}

        expected = {row[0]: (row[1], row[2]) for row in await connection.fetch(BASELINE_SQL, journey_id)}
        window = "?since=2000-01-01T00:00:00Z"
        for query in ("", window):
            if await figures(query) != expected:
                raise SystemExit(f"report{query} disagrees with the baseline SQL: {await figures(query)}")
        say("checking the funnel against the rows (FUNNEL_SQL, the report's way before migration 0011)")
        started = time.perf_counter()
        entered = {row[0]: row[1] for row in await connection.fetch(FUNNEL_SQL, journey_id)}
        say(f"  {time.perf_counter() - started:.1f} s")
        response = await client.get("/api/journeys/abandoned-cart/report", headers=headers)
        if {s["node"]: s["entered"] for s in response.json()["funnel"] if s["entered"]} != entered:
            raise SystemExit(f"the report's funnel disagrees with the rows: {response.json()['funnel']}")
        say(f"timing GET /api/journeys/abandoned-cart/report ({repeat} runs)")
        measured = await timings(lambda: figures(""), repeat)
        say(f"timing GET /api/journeys/abandoned-cart/report{window} ({repeat} runs)")
        windowed = await timings(lambda: figures(window), repeat)

        async def fetch(path: str) -> None:
            (
                await client.get(f"/api/journeys/abandoned-cart/report{path}", headers=headers)
            ).raise_for_status()

        series = "/timeseries?split=offer&interval=day"
        points = (await client.get(f"/api/journeys/abandoned-cart/report{series}", headers=headers)).json()
        last = {
            v["variant"]: (v["exposures"], v["conversions"])
            for v in points["points"][-1]["result"]["variants"]
        }
        if len(points["points"]) != 30 or last != expected:
            raise SystemExit(
                f"the timeseries disagrees with the baseline SQL: {len(points['points'])} points, {last}"
            )
        say(f"timing GET …/report{series} (30 days; {repeat} runs)")
        timeseries = await timings(lambda: fetch(series), repeat)
        say(f"timing GET …/report?format=csv ({repeat} runs)")
        exported = await timings(lambda: fetch("?format=csv"), repeat)
        verdict = (await client.get("/api/journeys/abandoned-cart/report", headers=headers)).json()
    await connection.close()
    base, full = summary(baseline), summary(measured)
    report(
        "report",
        [
            {"what": "baseline: one-statement LEFT JOIN SQL", **base},
            {"what": "GET /api/journeys/{key}/report (kept totals)", **full},
            {"what": "GET …/report?since=… (a time window: from the rows)", **summary(windowed)},
            {"what": "GET …/report/timeseries (30 days, daily totals)", **summary(timeseries)},
            {"what": "GET …/report?format=csv (kept totals)", **summary(exported)},
        ],
        {
            "exposures": exposures,
            "ratio_median": round(full["median_ms"] / base["median_ms"], 2),
            "target": "report, timeseries and CSV ≤ 300 ms",
            "verdict": verdict["splits"][0]["verdict"],
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    run(args.exposures, args.repeat)


if __name__ == "__main__":
    main()
