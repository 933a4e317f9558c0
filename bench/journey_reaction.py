"""The reaction phase of bench.journey: from the POST that ends a wait to the delivery that follows it, at a
fixed offered load, against a hand-written signal → activity."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from bench.common import (
    no_collector_pauses,
    p50_p99,
    say,
)
from bench.handwritten import HandWrittenWaiter
from bench.handwritten_activities import WAITING
from bench.handwritten_worker import BASELINE_QUEUE, baseline_worker_process
from bench.ingest import server
from bench.journey_setup import (
    WARMUP,
    WRITE_KEY,
    Side,
    all_ended,
    all_waiting,
    entry_event,
    latency_row,
    process_env,
    split_warmup,
    take_turns,
    until,
    worker_process,
)
from engine.outbox.router import EventRouter, RoutingCache
from engine.settings import Settings


async def delivery_times(sessionmaker: async_sessionmaker[AsyncSession], where: str) -> dict[str, float]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(f"SELECT profile_id, extract(epoch FROM created_at) FROM deliveries WHERE {where}")
        )
        return {row[0]: float(row[1]) for row in rows}


async def paced(calls: list[Callable[[], Coroutine[Any, Any, None]]], rate: float) -> None:
    """Fires the calls on a fixed schedule (open loop), `rate` a second."""
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for n, call in enumerate(calls):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call()))
    await asyncio.gather(*tasks)


async def reaction(
    client: Client,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    k: int,
    rate: float,
    temporal: int,
) -> list[dict[str, Any]]:
    """k hand-written workflows and k enrollments wait at once, and the sides take turns (`take_turns`)
    ending the waits of shares of them at `rate` a second. p50 and p99 are over all turns."""
    warmup, profiles = split_warmup(k)
    sent_at: dict[str, dict[str, float]] = {"baseline": {}, "journeys": {}}
    # As deployed: the API and the worker (with its outbox dispatcher) in processes of their own.
    env = process_env(client, settings)
    with (
        worker_process(env) as worker,
        baseline_worker_process(env) as baseline,
        server("api.app:create_app", env) as served,
    ):
        async with httpx.AsyncClient(base_url=served.url, auth=(WRITE_KEY, "")) as api:
            say(f"reaction: {k} hand-written workflows and {k} enrollments waiting (and {WARMUP} of each)")
            handles = {
                pid: await client.start_workflow(
                    HandWrittenWaiter.run, pid, id=f"hw-wait-{pid}", task_queue=BASELINE_QUEUE
                )
                for pid in warmup + profiles
            }
            cache = RoutingCache()
            for pid in warmup + profiles:
                async with sessionmaker() as session, session.begin():
                    await EventRouter(session, client, settings, cache).route(
                        entry_event(pid, "cart_updated")
                    )
            await until(lambda: all_waiting(sessionmaker, WARMUP + k))  # on both sides

            async def signal(pid: str) -> None:
                sent_at["baseline"][pid] = time.time()
                await handles[pid].signal(HandWrittenWaiter.event, "order_completed")

            async def post(pid: str) -> None:
                sent_at["journeys"][pid] = time.time()
                response = await api.post("/v1/track", json={"userId": pid, "event": "order_completed"})
                response.raise_for_status()

            # Only the senders run here, the workers in processes of their own: this process's collector
            # (it ran the earlier phases) held POSTs back 400 ms in a full pass, then let them go in a burst.
            async def hand_written(share: list[str]) -> None:
                with no_collector_pauses():
                    await paced([lambda pid=pid: signal(pid) for pid in share], rate)  # type: ignore[misc]
                    await asyncio.gather(*(handles[pid].result() for pid in share))

            async def journeys(share: list[str]) -> None:
                with no_collector_pauses():
                    await paced([lambda pid=pid: post(pid) for pid in share], rate)  # type: ignore[misc]
                    await until(lambda: all_ended(sessionmaker, "bench-react", share))

            sides: dict[str, Side] = {
                "baseline": (hand_written, {"temporal": temporal, "worker": baseline.pid}),
                "journeys": (journeys, {"temporal": temporal, "worker": worker.pid, "api": served.pid}),
            }
            cpu = (await take_turns(f"reaction at {rate:g}/s", sides, warmup, profiles)).cpu
    delivered = {
        "baseline": await delivery_times(
            sessionmaker, f"idempotency_key LIKE 'hw-wait-%' AND template <> '{WAITING}'"
        ),
        "journeys": await delivery_times(sessionmaker, "journey_key = 'bench-react'"),
    }
    # Where journeys' reactions spend their time, leg by leg (each leg's own p50 and p99).
    stored, routed = await stored_and_routed(sessionmaker, "order_completed")
    legs = {
        "POST → stored": (sent_at["journeys"], stored),
        "stored → routed to Temporal": (stored, routed),
        "routed → delivery": (routed, delivered["journeys"]),
    }
    for leg, (start, end) in legs.items():
        times = p50_p99([(end[pid] - start[pid]) * 1000 for pid in profiles])
        say(f"of which {leg}: p50 {times['p50_ms']} ms, p99 {times['p99_ms']} ms")
    return [
        latency_row(what, [(delivered[name][p] - sent_at[name][p]) * 1000 for p in profiles], cpu[name])
        for name, what in (
            ("baseline", "reaction baseline: signal → activity"),
            ("journeys", "reaction journeys: POST /v1/track → delivery"),
        )
    ]


async def stored_and_routed(
    sessionmaker: async_sessionmaker[AsyncSession], event: str
) -> tuple[dict[str, float], dict[str, float]]:
    """When each person's `event` was stored (its transaction began), and when the dispatcher marked it
    routed (acknowledged by Temporal)."""
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT e.profile_id, extract(epoch FROM e.received_at),"
                    " extract(epoch FROM o.processed_at)"
                    " FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.name = :event"
                ),
                {"event": event},
            )
        ).all()
        return {row[0]: float(row[1]) for row in rows}, {row[0]: float(row[2]) for row in rows}
