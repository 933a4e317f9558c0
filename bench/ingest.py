"""Ingest benchmark: /v1/track at 32 concurrent connections and /v1/batch with 100 events per call,
against a bare FastAPI endpoint doing one asyncpg insert (bench/baseline_app.py) served the same way,
in the same run: the two servers take 4 turns each, alternating, and the ratio quoted is the median of
the turns'. Every accepted event is then counted in PostgreSQL.

    .venv/bin/python -m bench.ingest [--events 4000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.common import (
    Served,
    cpu_per,
    cpu_seconds,
    cpu_spent,
    embedded_postgres,
    no_collector_pauses,
    p50_p99,
    report,
    running,
    say,
)
from bench.http import KeepAliveConnection, connected
from engine.settings import Settings, to_asyncpg_dsn
from runtime import migrate
from runtime.devstack.ports import free_port, wait_for_port

WRITE_KEY = "bench-write-key"
TURNS = 4
WARM_UP = 1000  # events to each server first (connections, prepared statements, plans)


@contextmanager
def server(app: str, env: dict[str, str]) -> Iterator[Served]:
    """One uvicorn process (uvloop + httptools, access log off), as `journeys api` runs."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory" if app.endswith("create_app") else "--no-server-header",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    with running(command, env) as process:
        if not wait_for_port(port, 30):
            raise RuntimeError(f"{app} did not start")
        yield Served(f"http://127.0.0.1:{port}", process.pid)


@dataclass
class Run:
    seconds: float
    latencies: list[float]
    accepted: int  # calls answered 200
    cpu: dict[str, float]  # CPU seconds by process over the run

    @classmethod
    def of(cls, turns: list[Run]) -> Run:
        cpu = {key: sum(turn.cpu[key] for turn in turns) for key in turns[0].cpu}
        latencies = [latency for turn in turns for latency in turn.latencies]
        return cls(sum(t.seconds for t in turns), latencies, sum(t.accepted for t in turns), cpu)

    def row(self, what: str, events: int) -> dict[str, Any]:
        return {
            "what": what,
            "events/s": round(events / self.seconds),
            **p50_p99(self.latencies),
            **cpu_per(self.cpu, events),
        }


async def load(target: Served, path: str, bodies: list[Any], concurrency: int) -> Run:
    """Sends every body to `path` with `concurrency` keep-alive connections (bench.http: httpx took 3-6 ms
    of the generator's CPU per request, and the generator, not the server, set the rate)."""
    latencies: list[float] = []
    accepted = 0
    queue = deque(json.dumps(body).encode() for body in bodies)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}

    async def send(client: KeepAliveConnection) -> None:
        nonlocal accepted
        while queue:
            body = queue.popleft()
            started = time.perf_counter()
            status, _ = await client.request("POST", path, body)
            latencies.append((time.perf_counter() - started) * 1000)
            accepted += status == 200

    async with connected(target.url, auth, concurrency) as connections:
        with no_collector_pauses():
            cpu_before, started = cpu_seconds({"server": target.pid}), time.perf_counter()
            await asyncio.gather(*(send(client) for client in connections))
            seconds, cpu_after = time.perf_counter() - started, cpu_seconds({"server": target.pid})
    return Run(seconds, latencies, accepted, cpu_spent(cpu_before, cpu_after))


def rate(run: Run) -> float:
    return run.accepted / run.seconds


def track_body(n: int, people: int = 500) -> dict[str, Any]:
    return {
        "userId": f"u{n % people}",
        "event": "cart_updated",
        "messageId": uuid.uuid4().hex,
        "properties": {"cart_id": f"c{n}", "total": n % 300},
    }


async def measure(url: str, events: int, concurrency: int) -> None:
    settings = Settings(database_url=url)
    await migrate.upgrade(settings)
    dsn = to_asyncpg_dsn(settings.sqlalchemy_url)
    connection = await asyncpg.connect(dsn)
    await connection.execute("CREATE TABLE bench_events (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
    env = {
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "JOURNEYS_WRITE_KEYS": WRITE_KEY,
        "JOURNEYS_LOG_LEVEL": "WARNING",
        "BENCH_DSN": dsn,
    }
    rows = []
    with server("bench.baseline_app:app", env) as base, server("api.app:create_app", env) as api:
        for target in (base, api):  # warm-up
            await load(target, "/v1/track", [track_body(n) for n in range(WARM_UP)], concurrency)
        # Baseline and journeys take turns on the same share of the events, so a change in the machine's
        # speed during the run (these machines drift by a third within minutes) reaches both sides.
        turns: dict[str, list[Run]] = {"base": [], "api": []}
        for turn in range(TURNS):
            share = [track_body(n) for n in range(turn * events // TURNS, (turn + 1) * events // TURNS)]
            say(f"turn {turn + 1} of {TURNS}: baseline, then journeys /v1/track, {len(share)} events each")
            turns["base"].append(await load(base, "/v1/track", share, concurrency))
            turns["api"].append(await load(api, "/v1/track", share, concurrency))
        baseline, run = Run.of(turns["base"]), Run.of(turns["api"])
        rows.append(baseline.row("baseline: bare FastAPI + one asyncpg insert", events))
        rows.append(run.row("journeys /v1/track", run.accepted))
        rates = [(round(rate(b)), round(rate(a))) for b, a in zip(turns["base"], turns["api"], strict=True)]
        accepted, batch_ok = run.accepted, 0
        for what, people in (("known people", 500), ("every event a new person", 10**9)):
            batches = [
                {"batch": [{"type": "track", **track_body(events + n * 100 + i, people)} for i in range(100)]}
                for n in range(events // 100)
            ]
            say(f"journeys: {len(batches)} /v1/batch calls of 100 events, {what}")
            run = await load(api, "/v1/batch", batches, concurrency)
            rows.append(run.row(f"journeys /v1/batch (100 per call, {what})", run.accepted * 100))
            batch_ok += run.accepted
    stored = await connection.fetchval("SELECT count(*) FROM events")
    expected = accepted + batch_ok * 100 + WARM_UP
    await connection.close()
    report(
        "ingest",
        rows,
        {
            "single_vs_baseline": round(statistics.median(ours / base for base, ours in rates), 2),
            "single_by_turn": " ".join(f"{ours}/{base}={ours / base:.2f}" for base, ours in rates),
            "events_verified_in_postgres": f"{stored} of {expected} accepted",
            "targets": "single ≥ 0.8× baseline; batched ≥ 10,000 events/s",
        },
    )
    if stored != expected:
        raise SystemExit(f"lost events: {expected - stored}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with embedded_postgres() as postgres:
        asyncio.run(measure(postgres.url, args.events, args.concurrency))


if __name__ == "__main__":
    main()
