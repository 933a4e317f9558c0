"""The throughput phase of bench.journey: branch → send → exit enrollments run to completion, against the
hand-written workflow doing the same steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from bench.handwritten import HandWrittenCart
from bench.handwritten_worker import BASELINE_QUEUE, baseline_worker
from bench.journey_setup import WARMUP, Side, bounded, entry_event, rate_row, scalar, split_warmup, take_turns
from engine.long_lived import freeze_startup_objects
from engine.outbox.router import EventRouter, RoutingCache
from engine.settings import Settings
from runtime.worker import build_worker


async def throughput(
    client: Client, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], n: int, temporal: int
) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Both workers run throughout while the sides take turns (`take_turns`). Returns the rows (all turns
    together) and each turn's ratio, against the hand-written workflow started plainly (the target's
    baseline: how an application starts its workflows, from a process without a worker) and started
    eagerly (as journeys' dispatcher, which runs beside the worker, starts enrollments)."""
    warmup, profiles = split_warmup(n)
    cache = RoutingCache()

    def run(pid: str, eager: bool) -> Callable[[], Awaitable[Any]]:
        return lambda: client.execute_workflow(
            HandWrittenCart.run,
            pid,
            id=f"hw-{'eager-' if eager else ''}cart-{pid}",
            task_queue=BASELINE_QUEUE,
            request_eager_start=eager,
        )

    def enroll(pid: str) -> Callable[[], Awaitable[Any]]:
        async def route() -> None:
            # What the outbox dispatcher does for each committed event (in the worker process too).
            async with sessionmaker() as session, session.begin():
                router = EventRouter(session, client, settings, cache)
                routed = await router.route(entry_event(pid, "cart_abandoned"))
            # Then waits for the run's end as execute_workflow does for the hand-written one: from Temporal
            # (an enrollment records its end in PostgreSQL before its workflow completes), with as many in
            # flight at once. Polling PostgreSQL instead cost ~0.36 ms of its CPU per enrollment.
            for workflow_id in routed.entered:
                await client.get_workflow_handle(workflow_id).result()

        return route

    def hand_written(eager: bool) -> Callable[[list[str]], Awaitable[None]]:
        async def side(share: list[str]) -> None:
            await bounded([run(pid, eager) for pid in share])

        return side

    async def journeys(share: list[str]) -> None:
        await bounded([enroll(pid) for pid in share])

    async with (
        httpx.AsyncClient() as http,
        baseline_worker(client, settings, sessionmaker),
        build_worker(client, settings, sessionmaker, http),
    ):
        freeze_startup_objects()  # as `journeys worker` does, and as for the baseline
        pids = {"temporal": temporal}
        sides: dict[str, Side] = {
            "baseline": (hand_written(eager=False), pids),
            "journeys": (journeys, pids),
            "eager": (hand_written(eager=True), pids),
        }
        turns = await take_turns("throughput", sides, warmup, profiles)
    ended = await scalar(
        sessionmaker,
        "SELECT count(*) FROM enrollments WHERE id NOT LIKE 'old-%' AND status <> 'active'"
        " AND journey_id = (SELECT id FROM journeys WHERE key = 'bench-cart')",
    )
    if ended != n + WARMUP:
        raise SystemExit(f"{ended} of {n + WARMUP} bench-cart enrollments ended")
    seconds, cpu = turns.seconds, turns.cpu
    rows = [
        rate_row("throughput baseline: hand-written workflow", n, sum(seconds["baseline"]), cpu["baseline"]),
        rate_row("throughput journeys: branch → send → exit", n, sum(seconds["journeys"]), cpu["journeys"]),
        rate_row("throughput hand-written, eager start", n, sum(seconds["eager"]), cpu["eager"]),
    ]
    # Equal shares: a turn's ratio of rates is the inverse of its ratio of times.
    return rows, {
        side: [b / j for b, j in zip(seconds[side], seconds["journeys"], strict=True)]
        for side in ("baseline", "eager")
    }
