"""Temporal stopped, 200 events posted (all answered 200), Temporal restarted: every event reaches its
enrollment, none twice. Runs its own dev server (persisted to a file) so it can stop and restart it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from engine import temporal_client
from engine.outbox.dispatcher import Dispatcher, running_dispatcher
from engine.settings import Settings
from runtime.devstack.ports import free_port
from runtime.devstack.temporal import EmbeddedTemporal
from runtime.worker import build_worker
from tests.ingestion.conftest import WRITE, Stack, eventually, publish_examples
from tests.support.crm import CrmStandIn

CUSTOMERS = 100


async def test_events_posted_while_temporal_is_down_all_arrive_once(
    api_client: httpx.AsyncClient,
    db_engine: AsyncEngine,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm: CrmStandIn,
    tmp_path: Path,
) -> None:
    temporal = EmbeddedTemporal(tmp_path / "temporal.db", free_port(), free_port(), tmp_path / "temporal.log")
    await asyncio.to_thread(temporal.start)
    try:
        own = settings.model_copy(update={"temporal_address": temporal.address})
        client = await temporal_client.connect(own)
        await publish_examples(api_client, crm.url)
        dispatcher = Dispatcher(own, sessionmaker, client)
        stack = Stack(api_client, db_engine, dispatcher)
        async with (
            httpx.AsyncClient() as http,
            build_worker(client, own, sessionmaker, http),
            running_dispatcher(dispatcher),
        ):
            await asyncio.to_thread(temporal.stop)

            statuses = []
            for n in range(CUSTOMERS):
                cart = {
                    "userId": f"c{n}",
                    "event": "cart_updated",
                    "properties": {"cart_id": f"k{n}", "total": 30},
                }
                order = {
                    "userId": f"c{n}",
                    "event": "order_completed",
                    "properties": {"cart_id": f"k{n}", "revenue": 30},
                }
                for message in (cart, order):
                    statuses.append(
                        (await api_client.post("/v1/track", json=message, headers=WRITE)).status_code
                    )
            assert statuses == [200] * (2 * CUSTOMERS)

            async def tried_and_kept() -> bool:
                [(pending, tried)] = await stack.sql(
                    "SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM outbox"
                    " WHERE processed_at IS NULL"
                )
                assert pending == 2 * CUSTOMERS  # nothing is marked done while Temporal is away
                return bool(tried > 0)

            await eventually(tried_and_kept)  # the dispatcher failed, recorded why, and kept every row

            await asyncio.to_thread(temporal.start)
            await eventually(stack.drained, patience=90)

            async def all_converted() -> bool:
                rows = await stack.sql("SELECT status, count(*) FROM enrollments GROUP BY status")
                return rows == [("exited:goal", CUSTOMERS)]

            await eventually(all_converted, patience=90)
        assert await stack.sql("SELECT count(*), count(DISTINCT workflow_id) FROM enrollments") == [
            (CUSTOMERS, CUSTOMERS)
        ]
        assert await stack.sql("SELECT count(*) FROM events") == [(2 * CUSTOMERS,)]
        # Each purchase credited once to the enrollment's exposure (journey-level holdout membership).
        assert await stack.sql("SELECT count(*), count(DISTINCT exposure_id) FROM outcomes") == [
            (CUSTOMERS, CUSTOMERS)
        ]
    finally:
        await asyncio.to_thread(temporal.stop)
