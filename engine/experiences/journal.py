"""Decisions answered before they reach PostgreSQL, and never lost.

A decision is appended to this process's journal file (one `write`: in the kernel's page cache when it
returns, so it outlives the process, killed or not) before the answer leaves; a task moves the journal
into `experience_decisions` a batch at a time, after the answers, and empties the file once everything
in it is stored. A process that died leaves its file: the next one to start (or any live one, every few
seconds) stores it and deletes it. Inserts skip ids already stored, so a batch stored twice (a crash
between the insert and emptying the file) counts once.

Each file is locked (`flock`) by the process writing it for as long as it lives; a file nobody holds is
an orphan. A file is named `*.jsonl` only once locked, so no one takes a new file for an orphan."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.experiences.repository import ExperienceRepository

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2  # how far the table may lag the answers
ORPHAN_EVERY = 25  # flushes between looks for orphans (5 s)
ROTATE_BYTES = 1 << 20  # under steady traffic the file is never empty to truncate: start a new one


def _row(line: bytes) -> dict[str, Any] | None:
    try:
        row: dict[str, Any] = json.loads(line)
        row["decided_at"] = datetime.fromisoformat(row["decided_at"])
        return row
    except (ValueError, KeyError, TypeError):  # a line cut short: never answered, so never owed
        return None


def _rows(fd: int) -> list[dict[str, Any]]:
    with open(fd, "rb", closefd=False) as file:
        return [row for line in file.read().splitlines() if (row := _row(line))]


class DecisionJournal:
    def __init__(self, directory: Path, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.directory = directory
        self.sessionmaker = sessionmaker
        self.pending: list[dict[str, Any]] = []  # written, not yet stored
        self._fd: int | None = None
        self._path: Path | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open this process's file, store what dead processes left, then flush in the background."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._open()
        try:
            await self.store_orphans()
        except Exception:  # the database away: the background task tries again
            log.warning("decisions journaled by a stopped process not stored yet", exc_info=True)
        self._task = asyncio.create_task(self._run())

    def _open(self) -> None:
        name = uuid.uuid4().hex
        draft = self.directory / f".{name}.new"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._path = self.directory / f"{name}.jsonl"
        os.rename(draft, self._path)
        self._fd = fd

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.flush()
        except Exception:  # the database away: the file stays, for the next process to store
            log.warning("%d decisions left journaled in %s", len(self.pending), self._path, exc_info=True)
        if self._fd is not None and not self.pending and self._path is not None:
            self._path.unlink(missing_ok=True)  # everything stored: nothing for anyone to take over
            os.close(self._fd)
            self._fd = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Durable against the process's death once this returns; stored in the table shortly after."""
        if not rows:
            return
        if self._fd is None:
            raise RuntimeError("the decision journal is not started")
        self._append(rows)
        self.pending.extend(rows)

    def _append(self, rows: list[dict[str, Any]]) -> None:
        assert self._fd is not None
        lines = "".join(json.dumps(row, default=datetime.isoformat) + "\n" for row in rows)
        os.write(self._fd, lines.encode())

    def pending_since(self, experience_id: int, profile_ids: list[str], since: datetime) -> list[str]:
        """Ids of this process's decisions that may not be stored yet, for a frequency cap to count with
        the table's (some may be stored already, mid-flush: the cap counts the table's without them)."""
        people = set(profile_ids)
        return [
            row["id"]
            for row in self.pending
            if row["experience_id"] == experience_id
            and row["profile_id"] in people
            and row["decided_at"] > since
        ]

    async def flush(self) -> None:
        rows = self.pending[:]
        if not rows:
            return
        await self._store(rows)
        del self.pending[: len(rows)]
        # No await from here on: no decision is written in between.
        if self._fd is None:
            return
        if not self.pending:
            os.ftruncate(self._fd, 0)
        elif os.fstat(self._fd).st_size > ROTATE_BYTES:
            old_fd, old_path = self._fd, self._path
            self._open()
            self._append(self.pending)  # what is not stored yet moves to the new file first
            assert old_path is not None
            old_path.unlink()
            os.close(old_fd)

    async def store_orphans(self) -> None:
        for path in sorted(self.directory.glob("*.jsonl")):
            if path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # another process took it first
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its process is alive
                os.close(fd)
                continue
            try:
                if os.fstat(fd).st_nlink == 0:  # stored and deleted by whoever held it before us
                    continue
                rows = await asyncio.to_thread(_rows, fd)
                if rows:
                    await self._store(rows)
                    log.info("stored %d decisions a stopped process had journaled (%s)", len(rows), path)
                path.unlink()
            finally:
                os.close(fd)

    async def _store(self, rows: list[dict[str, Any]]) -> None:
        async with self.sessionmaker.begin() as session:
            await ExperienceRepository(session).store(rows)

    async def _run(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            ticks += 1
            try:
                await self.flush()
                if ticks % ORPHAN_EVERY == 0:
                    await self.store_orphans()
            except Exception:  # the database away: everything stays journaled, tried again next tick
                log.warning("decisions not stored yet; trying again", exc_info=True)
