"""Read-path benchmark: the in-app inbox and a person's live signals, at a fixed offered load
(200 requests/s, open loop: requests leave on schedule whether or not earlier ones have returned), against
a bare FastAPI endpoint doing one indexed asyncpg select, served the same way, in the same run.

    .venv/bin/python -m bench.read_path [--profiles 2000] [--rate 200] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
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
    say,
)
from bench.http import KeepAliveConnection, connected
from bench.ingest import server
from engine.settings import Settings, to_asyncpg_dsn
from runtime import migrate

ADMIN_TOKEN = "bench-admin-token"
EVENTS_PER_PROFILE = 30
MESSAGES_PER_PROFILE = 10
CONNECTIONS = 64


async def seed(connection: asyncpg.Connection, profiles: int) -> None:
    await connection.execute(
        "INSERT INTO profiles (id, traits) SELECT 'p' || n, jsonb_build_object('first_name', 'P' || n)"
        " FROM generate_series(1, $1) n",
        profiles,
    )
    await connection.execute(
        "INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
        " SELECT md5(p || '-' || e), 'p' || p, 'track',"
        " (ARRAY['page_viewed', 'cart_updated', 'order_completed', 'login'])[1 + e % 4],"
        " jsonb_build_object('total', e * 3, 'cart_id', 'c' || e), '{}'::jsonb,"
        " now() - make_interval(hours => e * 5)"
        " FROM generate_series(1, $1) p, generate_series(1, $2) e",
        profiles,
        EVENTS_PER_PROFILE,
    )
    await connection.execute(
        "INSERT INTO deliveries (idempotency_key, enrollment_id, profile_id, journey_key, channel, template,"
        " status, payload, sent_at, scheduled_at)"
        " SELECT 'k' || p || ':' || m, 'enr-' || p, 'p' || p, 'tips', 'in_app', 'tip', 'sent',"
        " jsonb_build_object('subject', 'Tip ' || m, 'body', 'Hello P' || p), now(), now()"
        " FROM generate_series(1, $1) p, generate_series(1, $2) m",
        profiles,
        MESSAGES_PER_PROFILE,
    )
    await connection.execute("ANALYZE")


async def offered_load(
    target: Served,
    paths: list[str],
    rate: int,
    seconds: float,
    bodies: list[bytes] | None = None,
    token: str = ADMIN_TOKEN,
) -> tuple[list[float], int, dict[str, float]]:
    """Sends `rate` requests a second for `seconds`, each on its schedule; latencies in ms, errors, and
    CPU seconds by process.

    Open loop with a fixed set of connections (as wrk2 does): request n belongs to connection n mod
    CONNECTIONS and is due at start + n / rate. Its latency is measured from when it was due, so a slow
    server is charged for the requests it delayed. (A task per request instead piles requests up in
    httpx's pool once the server lags, and the pool's bookkeeping then eats the load generator's core.)
    Requests go out through bench.http: httpx alone took most of a core at this rate. With `bodies`, each
    request is a POST of body n mod len(bodies)."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    total = int(rate * seconds)

    async def send(client: KeepAliveConnection, first: int) -> None:
        nonlocal errors
        for n in range(first, total, CONNECTIONS):
            due = start + n / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            if bodies is None:
                status, _ = await client.request("GET", paths[n % len(paths)])
            else:
                status, _ = await client.request("POST", paths[n % len(paths)], bodies[n % len(bodies)])
            latencies.append((time.perf_counter() - due) * 1000)
            errors += status != 200

    async with connected(target.url, headers, CONNECTIONS) as connections:
        # The schedule starts after the generator's own full collection (100-170 ms here), which would
        # otherwise be charged to the first requests as server latency (and was most of the p99).
        with no_collector_pauses():
            cpu_before, start = cpu_seconds({"server": target.pid}), time.perf_counter()
            await asyncio.gather(*(send(client, i) for i, client in enumerate(connections)))
            cpu = cpu_spent(cpu_before, cpu_seconds({"server": target.pid}))
    return latencies, errors, cpu


def row(what: str, latencies: list[float], errors: int, cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "what": what,
        "requests": len(latencies),
        "errors": errors,
        **p50_p99(latencies, digits=2),
        **cpu_per(cpu, len(latencies)),
    }


async def measure(url: str, profiles: int, rate: int, seconds: float) -> None:
    settings = Settings(database_url=url)
    await migrate.upgrade(settings)
    dsn = to_asyncpg_dsn(settings.sqlalchemy_url)
    connection = await asyncpg.connect(dsn)
    say(f"seeding {profiles} profiles, {EVENTS_PER_PROFILE} events and {MESSAGES_PER_PROFILE} messages each")
    await seed(connection, profiles)
    await connection.close()
    ids = [f"p{n}" for n in random.Random(7).sample(range(1, profiles + 1), min(profiles, 500))]
    env = {
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "JOURNEYS_ADMIN_TOKEN": ADMIN_TOKEN,
        "JOURNEYS_LOG_LEVEL": "WARNING",
        "BENCH_DSN": dsn,
    }
    rows = []
    with server("bench.baseline_app:app", env) as base:
        say(f"baseline: {rate} req/s for {seconds:g} s")
        paths = [f"/inbox/{pid}" for pid in ids]
        await offered_load(base, paths, rate, 2)  # warm-up
        rows.append(
            row("baseline: bare FastAPI, one indexed select", *await offered_load(base, paths, rate, seconds))
        )
    with server("api.app:create_app", env) as api:
        for what, path in (
            ("GET /api/profiles/{id}/inbox", "/api/profiles/{}/inbox"),
            ("GET /api/profiles/{id}/signals (all 9 built-ins)", "/api/profiles/{}/signals"),
        ):
            say(f"journeys {what}: {rate} req/s for {seconds:g} s")
            paths = [path.format(pid) for pid in ids]
            await offered_load(api, paths, rate, 2)  # warm-up
            rows.append(row(what, *await offered_load(api, paths, rate, seconds)))
    report(
        "read_path",
        rows,
        {
            "inbox_p99_vs_baseline": round(rows[1]["p99_ms"] / rows[0]["p99_ms"], 2),
            "signals_p99_vs_baseline": round(rows[2]["p99_ms"] / rows[0]["p99_ms"], 2),
            "target": "p99 ≤ 10 ms at 200 requests/s",
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200, help="requests per second offered")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    with embedded_postgres() as postgres:
        asyncio.run(measure(postgres.url, args.profiles, args.rate, args.seconds))


if __name__ == "__main__":
    main()
