"""The outbox dispatcher: routes committed events to Temporal and marks them done only after Temporal
acknowledged. Woken by LISTEN/NOTIFY; polls as a fallback (a missed notification, a restart).

Temporal down ⇒ the row stays pending with its error, is retried with backoff, and blocks only the
events of the same person behind it (their order is kept); nothing is lost. A row that fails for a reason
of its own (a bug, data no rule foresaw) waits a growing delay between attempts while other rows are
claimed, and after MAX_ATTEMPTS is parked: out of its person's order, so their later events route, and
listed for an operator (GET /api/outbox/dead) to retry or drop. Several dispatchers may
run: rows are claimed with FOR UPDATE SKIP LOCKED, and only a person's oldest pending row is eligible.

Each dispatcher runs `dispatch_concurrency` drain loops on that same rule: routing one event waits for a
round trip to Temporal, and with a single loop every event arriving meanwhile would queue behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from engine.errors import Conflict
from engine.outbox.repository import NOTIFY_CHANNEL, OutboxRepository
from engine.outbox.router import EventRouter, RoutingCache
from engine.settings import Settings, to_asyncpg_dsn

log = logging.getLogger(__name__)
BATCH = 100
POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0
MAX_ATTEMPTS = 5  # a row failing for a reason of its own is parked at its fifth failure
RETRY_BASE_SECONDS = 1.0  # its waits: 1, 2, 4, 8 s
# Failures of what routing talks to, not of the event: retried as long as it takes, never parked.
AWAY = (RPCError, Conflict, OSError, TimeoutError, OperationalError, InterfaceError)


def is_away(error: Exception) -> bool:
    return isinstance(error, AWAY) or (isinstance(error, DBAPIError) and error.connection_invalidated)


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        temporal: Client,
        poll_seconds: float = POLL_SECONDS,
        retry_base_seconds: float = RETRY_BASE_SECONDS,
    ) -> None:
        self.poll_seconds = poll_seconds  # the fallback when a NOTIFY is missed
        self.retry_base_seconds = retry_base_seconds
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.temporal = temporal
        self.cache = RoutingCache()
        self.loops: list[asyncio.Event] = []  # each drain loop's wake-up
        self.idle: list[asyncio.Event] = []  # those of the loops asleep
        self.routed = 0

    async def drain_once(self) -> tuple[int, int]:
        """Routes one batch; returns (routed, failed because something routing needs is away). A row
        failing for a reason of its own is not counted: it waits on its own (retry_at), not the loop."""
        routed = failed = 0
        async with self.sessionmaker() as session, session.begin():
            outbox = OutboxRepository(session)
            for entry, event in await outbox.claim(BATCH):
                if event is None:  # erased with its person: nothing left to route (done deletes the row)
                    await outbox.done(entry.id, datetime.now(UTC))
                    continue
                try:
                    # Each event's enrollments commit on their own, at once: the workflows just started
                    # take the same entry locks (begin_enrollment) and must not wait for the whole batch.
                    # A crash before the marks below commit re-routes the event: harmless (signals are
                    # deduplicated by event id, a started enrollment is found by its workflow id).
                    async with self.sessionmaker() as routing, routing.begin():
                        router = EventRouter(routing, self.temporal, self.settings, self.cache)
                        await router.route(event)
                except Exception as error:  # Temporal unreachable, or this event's own: keep it, say why
                    away = is_away(error)
                    failed += away
                    park = not away and entry.attempts + 1 >= MAX_ATTEMPTS
                    log.log(
                        logging.ERROR if park else logging.WARNING,
                        "routing event %s failed (attempt %d)%s: %s",
                        event.message_id,
                        entry.attempts + 1,
                        "; parked for an operator" if park else "",
                        error,
                    )
                    retry_in = (
                        None if away else timedelta(seconds=self.retry_base_seconds * 2**entry.attempts)
                    )
                    await outbox.failed(entry.id, f"{type(error).__name__}: {error}", retry_in, park)
                else:
                    routed += 1
                    await outbox.done(entry.id, datetime.now(UTC))
        self.routed += routed
        return routed, failed

    async def run(self, stop: asyncio.Event) -> None:
        listener = await self._listen()
        try:
            await asyncio.gather(*(self._drain(stop) for _ in range(self.settings.dispatch_concurrency)))
        finally:
            if listener is not None:
                await listener.close()

    async def _drain(self, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        self.loops.append(wake)
        backoff = 0.0
        while not stop.is_set():
            wake.clear()
            try:
                routed, failed = await self.drain_once()
            except Exception as error:  # the database itself is unreachable: back off and retry
                log.warning("dispatcher cannot read the outbox: %s", error)
                routed, failed = 0, 1
            if failed and not routed:
                backoff = min(MAX_BACKOFF_SECONDS, max(0.2, backoff * 2))
                await self._sleep(stop, backoff, None)
                continue
            backoff = 0.0
            if routed == 0:
                self.idle.append(wake)
                try:
                    await self._sleep(stop, self.poll_seconds, wake)
                finally:
                    if wake in self.idle:
                        self.idle.remove(wake)

    def _notified(self) -> None:
        """A NOTIFY wakes one sleeping loop (one claim per event, not one per loop). With none asleep,
        every loop drains again as soon as it is done, as its claim may have missed the new row."""
        if self.idle:
            self.idle.pop().set()
        else:
            for wake in self.loops:
                wake.set()

    async def _sleep(self, stop: asyncio.Event, seconds: float, wake: asyncio.Event | None) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            connection = await asyncpg.connect(to_asyncpg_dsn(self.settings.sqlalchemy_url))
            await connection.add_listener(NOTIFY_CHANNEL, lambda *_: self._notified())
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("LISTEN unavailable (%s): polling every %ss", error, self.poll_seconds)
            return None
        return connection


@contextlib.asynccontextmanager
async def running_dispatcher(dispatcher: Dispatcher):  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await task
