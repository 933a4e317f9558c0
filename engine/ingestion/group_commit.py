"""The ingest hot path: events of known people, with nothing else to write (no traits, alias or consent),
are stored without a transaction of the request's own. Concurrent requests share one statement (one
round trip, one commit, one wake-up of the dispatcher; group commit) that looks their people up and stores
their events and outbox rows, and leaves alone any request with someone to create, link or merge: that
request then goes the careful way (engine.ingestion.service).

A request still gets its answer only once its events are committed. While `writers` statements are in
flight, newly arrived requests wait and go together in the next one, so batches grow with the load and a
lone request is written at once; PostgreSQL's work per event shrinks as batches grow.

What is waiting is shared out over the free writers rather than taken whole by the first. Taken whole,
the requests of a closed loop of clients move in lockstep: all parsed, all in one statement, and the
event loop idle while PostgreSQL writes it. Shared out, one part is written (on a core of its own) while
the other's answers go out and its next requests are parsed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.events.repository import EventRepository
from engine.ingestion.schemas import IngestResult, SegmentMessage
from engine.ingestion.service import changes_only_events, event_rows

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    rows: list[dict[str, Any]]
    answer: asyncio.Future[int | None]


class GroupCommit:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], writers: int = 2, max_rows: int = 2000
    ) -> None:
        self.sessionmaker = sessionmaker
        self.writers = writers
        self.max_rows = max_rows
        self._waiting: list[_Waiting] = []
        self._writing = 0  # counted by the writers themselves: a finished task leaves the set a turn late
        self._sending = 0  # statements in flight (the writers in `_write`)
        self._tasks: set[asyncio.Task[None]] = set()

    async def ingest(self, messages: list[SegmentMessage], received_at: datetime) -> IngestResult | None:
        """The request's result once committed, or None, with nothing written, if it has more to do than
        storing events of known people."""
        if not messages:  # a batch whose every item was rejected
            return IngestResult(accepted=0)
        if not all(changes_only_events(message) for message in messages):
            return None
        stored = await self._store(event_rows(messages, None, received_at))
        return None if stored is None else IngestResult(accepted=stored, duplicates=len(messages) - stored)

    async def _store(self, rows: list[dict[str, Any]]) -> int | None:
        waiting = _Waiting(rows, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._writing < self.writers:
            self._writing += 1
            task = asyncio.create_task(self._write_while_waiting())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await waiting.answer

    async def _write_while_waiting(self) -> None:
        try:
            await asyncio.sleep(0)  # the requests that reach here in this turn of the event loop go together
            while self._waiting:
                await self._write(self._take(self._share()))
        finally:
            self._writing -= 1

    def _share(self) -> int:
        """This writer's share of the waiting requests: an even split over the writers not sending (this
        one among them, so never none)."""
        return -(-len(self._waiting) // (self.writers - self._sending))

    def _take(self, most: int) -> list[_Waiting]:
        """The oldest waiting requests, at most `most` of them, up to `max_rows` rows and with distinct
        message ids (a statement cannot tell which of two requests stored a shared one): the rest wait for
        the next statement."""
        taken: list[_Waiting] = []
        message_ids: set[str] = set()
        for waiting in self._waiting:
            ids = {row["message_id"] for row in waiting.rows}
            if taken and (
                len(taken) == most
                or len(message_ids) + len(ids) > self.max_rows
                or not ids.isdisjoint(message_ids)
            ):
                break
            taken.append(waiting)
            message_ids |= ids
        del self._waiting[: len(taken)]
        return taken

    async def _write(self, batch: list[_Waiting]) -> None:
        answers: list[int | None] = [None] * len(batch)
        self._sending += 1
        try:
            async with self.sessionmaker() as session:
                answers = await EventRepository(session).store_for_known([w.rows for w in batch])
        except Exception:
            # One request's data the database refuses, or a lost connection: every request then takes the
            # careful path on its own (None), where it fails or succeeds alone. A replay there of events
            # this statement did commit is recognised by messageId.
            log.exception("a shared ingest statement failed; %d requests retry alone", len(batch))
        finally:
            self._sending -= 1
            for waiting, answer in zip(batch, answers, strict=True):
                if not waiting.answer.done():  # a request cancelled (its client gone) is not answered
                    waiting.answer.set_result(answer)
