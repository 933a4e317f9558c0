"""What both journey benchmarks share: the journeys and history they run on, timing rows, CPU accounting,
the turns the sides take, and the worker processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from bench.common import (
    cpu_per,
    cpu_seconds,
    cpu_spent,
    p50_p99,
    running,
    say,
)
from bench.handwritten_activities import WAITING
from engine.db.models import Event
from engine.db.session import autocommit
from engine.journeys.service import JourneyService
from engine.settings import Settings
from engine.templates.service import TemplateService, TemplateUpdate
from runtime.devstack.ports import free_port

WRITE_KEY = "bench-write-key"
HISTORY = 20_000  # finished enrollments (and deliveries) in the database before the run
# Runs before the measured ones on both sides, not timed (waits ended at the same rate): the first events
# through a freshly started API and worker paid for opening pools and loading caches (POST → stored
# 80-150 ms, against 5-10 ms after), and two of them were the reaction p99 of 200 samples.
WARMUP = 20
TURNS = 3  # throughput: turns each side takes, alternating; the ratio quoted is the median of the turns'
CART = {
    "key": "bench-cart",
    "name": "Bench cart",
    "entry": {"event": "cart_abandoned", "reentry": {"mode": "always"}},
    "start": "check",
    "nodes": {
        "check": {
            "type": "branch",
            "default": "remind",
            "cases": [{"when": {"signal": "cart_value", "op": "gt", "value": 100}, "next": "offer"}],
        },
        "offer": {"type": "send", "channel": "outbox", "template": "bench_offer", "next": "done"},
        "remind": {"type": "send", "channel": "outbox", "template": "bench_reminder", "next": "done"},
        "done": {"type": "exit"},
    },
}
REACT = {
    "key": "bench-react",
    "name": "Bench reaction",
    "entry": {"event": "cart_updated"},
    "start": "wait",
    "nodes": {
        "wait": {
            "type": "wait_for_event",
            "event": "order_completed",
            "timeout": "1d",
            "on_event": "thanks",
            "on_timeout": "done",
        },
        "thanks": {"type": "send", "channel": "outbox", "template": "bench_reminder", "next": "done"},
        "done": {"type": "exit"},
    },
}


async def bounded(calls: list[Callable[[], Awaitable[Any]]], concurrency: int = 32) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one(call) for call in calls))


async def until(check: Callable[[], Awaitable[bool]], patience: float = 600) -> None:
    deadline = time.perf_counter() + patience
    while not await check():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out waiting for the run to finish")
        await asyncio.sleep(0.05)


async def scalar(sessionmaker: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def prepare(sessionmaker: async_sessionmaker[AsyncSession], profiles: int) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("INSERT INTO profiles (id, traits) SELECT 'p' || n, '{}' FROM generate_series(1, :n) n"),
            {"n": profiles},
        )
        await session.execute(
            text(
                "INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
                " SELECT 'seed-' || n, 'p' || n, 'track', 'cart_updated',"
                " jsonb_build_object('cart_id', 'c' || n, 'total', (n % 4) * 60), '{}'::jsonb, now()"
                " FROM generate_series(1, :n) n"
            ),
            {"n": profiles},
        )
        templates = TemplateService(session)
        await templates.put("bench_offer", TemplateUpdate(subject="10% off", body="Come back for 10% off."))
        await templates.put("bench_reminder", TemplateUpdate(subject="Your cart", body="Your cart waits."))
        for journey in (CART, REACT):
            await JourneyService(session).publish(str(journey["key"]), journey, "bench")
        # History, as in a system that has been running: finished enrollments and their deliveries.
        # Without it the tables grow from empty during the run, and PostgreSQL keeps the plans it
        # made for empty tables (scans) long after they stopped being right.
        await session.execute(
            text(
                "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, status,"
                " holdout, started_at, ended_at)"
                " SELECT 'old-' || n, 'old-' || n, j.id, 1, 'p' || (n % :p + 1), 'completed', false,"
                " now() - interval '30 days', now() - interval '29 days'"
                " FROM generate_series(1, :n) n, journeys j WHERE j.key = 'bench-cart'"
            ),
            {"n": HISTORY, "p": profiles},
        )
        await session.execute(
            text(
                "INSERT INTO deliveries (idempotency_key, enrollment_id, profile_id, journey_key, channel,"
                " template, status, payload, scheduled_at, sent_at)"
                " SELECT 'old-' || n || ':remind:1', 'old-' || n, 'p' || (n % :p + 1), 'bench-cart',"
                " 'outbox', 'bench_reminder', 'sent', '{}'::jsonb, now() - interval '30 days',"
                " now() - interval '30 days' FROM generate_series(1, :n) n"
            ),
            {"n": HISTORY, "p": profiles},
        )
    async with sessionmaker() as session:
        # Statistics and visibility maps for the seeded tables, as autovacuum keeps them in a running
        # system (and so autovacuum does not start on them mid-run).
        await autocommit(session)
        await session.execute(text("VACUUM ANALYZE"))


def entry_event(profile_id: str, name: str) -> Event:
    """An event as ingestion stores it (what the router reads from the outbox)."""
    return Event(
        message_id=f"{name}-{profile_id}",  # one entry event per profile and journey in a run
        profile_id=profile_id,
        type="track",
        name=name,
        properties={},
        context={},
        timestamp=datetime.now(UTC),
    )


def rate_row(what: str, n: int, seconds: float, cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "what": what,
        "n": n,
        "per_s": round(n / seconds, 1),
        "p50_ms": "",
        "p99_ms": "",
        **cpu_per(cpu, n),
    }


def latency_row(what: str, latencies: list[float], cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "what": what,
        "n": len(latencies),
        "per_s": "",
        **p50_p99(latencies),
        **cpu_per(cpu, len(latencies)),
    }


@contextmanager
def cpu_used(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """CPU seconds spent in the block by Temporal, PostgreSQL and ours: the workers, the API and whatever
    sends the events (throughput: both sides' workers in this process; reaction: journeys' worker and
    API, and the hand-written worker, in processes of their own, the senders here). On two cores the
    reaction benchmark is near saturation, so latency follows this."""
    spent: dict[str, float] = {}
    before = cpu_seconds(pids)
    yield spent
    used = cpu_spent(before, cpu_seconds(pids))
    spent["temporal"], spent["postgres"] = used.pop("temporal"), used.pop("postgres")
    spent["workers, API, sender"] = sum(used.values())


# A side of a benchmark: what runs a share of the profiles (to its end), and the processes it runs in.
Side = tuple[Callable[[list[str]], Awaitable[None]], dict[str, int]]


@dataclass
class Turns:
    seconds: dict[str, list[float]]  # per side, each turn's
    cpu: dict[str, dict[str, float]]  # per side and process, over all turns


async def take_turns(what: str, sides: dict[str, Side], warmup: list[str], profiles: list[str]) -> Turns:
    """Each side runs the warm-up profiles (not timed), then the sides take TURNS turns each, alternating
    in the order given, on equal shares of the profiles: the machine's drift in the course of the run
    falls on all of them (one phase each, the same code measured throughput 0.61-0.78x)."""
    say(f"{what}: {len(warmup)} of each side to warm up, not timed")
    for run, _ in sides.values():
        await run(warmup)
    turns = Turns({name: [] for name in sides}, {name: {} for name in sides})
    for turn in range(TURNS):
        share = profiles[turn * len(profiles) // TURNS : (turn + 1) * len(profiles) // TURNS]
        say(f"{what}, turn {turn + 1} of {TURNS}: {', then '.join(sides)}, {len(share)} each")
        for name, (run, pids) in sides.items():
            with cpu_used(pids) as used:
                started = time.perf_counter()
                await run(share)
                turns.seconds[name].append(time.perf_counter() - started)
            turns.cpu[name] = {key: turns.cpu[name].get(key, 0.0) + value for key, value in used.items()}
    return turns


def process_env(client: Client, settings: Settings) -> dict[str, str]:
    """The environment of the API and worker processes a benchmark starts (theirs and the hand-written)."""
    return {
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "JOURNEYS_TASK_QUEUE": settings.task_queue,
        "JOURNEYS_WRITE_KEYS": WRITE_KEY,
        "JOURNEYS_LOG_LEVEL": "WARNING",
        "JOURNEYS_WORKER_METRICS_PORT": str(free_port()),
        "JOURNEYS_ALLOW_DEV_SECRETS": "true",  # a benchmark's own throwaway stack
    }


def worker_process(env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`journeys worker`: the journey workflows, their activities and the outbox dispatcher."""
    return running([str(Path(sys.executable).parent / "journeys"), "worker"], env)


def split_warmup(k: int) -> tuple[list[str], list[str]]:
    """The WARMUP profiles run first, not timed, and the k measured ones (prepare made enough)."""
    profiles = [f"p{i + 1}" for i in range(WARMUP + k)]
    return profiles[:WARMUP], profiles[WARMUP:]


async def all_ended(sessionmaker: async_sessionmaker[AsyncSession], key: str, profiles: list[str]) -> bool:
    """Whether these people's enrollments in the journey have all ended; every one of them is admitted
    before this is polled. An index lookup: counting this run's ended rows among the seeded history took
    ~5 ms of PostgreSQL CPU a poll, 20 polls a second, charged to journeys and not to the baseline."""
    running = await scalar(
        sessionmaker,
        "SELECT count(*) FROM enrollments WHERE status = 'active' AND profile_id = ANY(:profiles)"
        " AND journey_id = (SELECT id FROM journeys WHERE key = :key)",
        profiles=profiles,
        key=key,
    )
    return int(running) == 0


async def all_waiting(sessionmaker: async_sessionmaker[AsyncSession], k: int) -> bool:
    """Whether k enrollments and k hand-written workflows wait (each has recorded that it does)."""
    journeys = await scalar(
        sessionmaker,
        "SELECT count(*) FROM enrollment_steps WHERE node_id = 'wait' AND decision ->> 'waiting' = 'true'",
    )
    hand_written = await scalar(
        sessionmaker,
        f"SELECT count(*) FROM deliveries WHERE idempotency_key LIKE 'hw-wait-%' AND template = '{WAITING}'",
    )
    return min(int(journeys), int(hand_written)) >= k
