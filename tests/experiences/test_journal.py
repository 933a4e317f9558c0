"""The decision journal over real files and PostgreSQL: what a process journaled and did not store is
stored by the next one to start, once, even when it had stored it already and died before emptying its
file; a file whose process lives is left to it."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.db.session import create_sessionmaker
from engine.experiences.journal import DecisionJournal
from tests.experiences.test_decide import ADMIN, HERO, WRITE


async def _setup(api: httpx.AsyncClient, db: AsyncEngine) -> tuple[int, str]:
    assert (await api.put("/api/experiences/hero-test", json=HERO, headers=ADMIN)).status_code == 201
    assert (await api.post("/v1/identify", json={"userId": "j"}, headers=WRITE)).status_code == 200
    async with db.connect() as connection:
        experience = (await connection.execute(text("SELECT id FROM experiences"))).scalar_one()
        profile = (await connection.execute(text("SELECT profile_id FROM identities"))).scalar_one()
    return experience, profile


def _decisions(experience: int, profile: str, n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": str(uuid.uuid4()),
            "experience_id": experience,
            "version": 1,
            "profile_id": profile,
            "variation": "calm",
            "reason": "split",
            "decided_at": now,
        }
        for _ in range(n)
    ]


async def _stored(db: AsyncEngine) -> list[str]:
    async with db.connect() as connection:
        return sorted(row[0] for row in await connection.execute(text("SELECT id FROM experience_decisions")))


def _die(journal: DecisionJournal) -> None:
    """What SIGKILL does to a journal: its file closed (and unlocked) by the kernel, nothing flushed."""
    assert journal._fd is not None
    os.close(journal._fd)
    journal._fd = None
    assert journal._task is not None
    journal._task.cancel()


async def test_a_dead_processs_journal_is_stored_once_by_the_next(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, tmp_path: Path
) -> None:
    experience, profile = await _setup(api_client, db_engine)
    sessionmaker = create_sessionmaker(db_engine)
    directory = tmp_path / "decisions"

    first = DecisionJournal(directory, sessionmaker)
    await first.start()
    stored_then_died = _decisions(experience, profile, 3)
    first.write(stored_then_died)
    await first.flush()
    first.pending.extend(stored_then_died)  # as if it died between the insert and emptying its file
    first._append(stored_then_died)
    never_stored = _decisions(experience, profile, 4)
    first.write(never_stored)
    assert len(first.pending_since(experience, [profile], datetime(2000, 1, 1, tzinfo=UTC))) == 7
    alive = DecisionJournal(directory, sessionmaker)
    await alive.start()  # the first still holds its file: left alone
    assert await _stored(db_engine) == sorted(d["id"] for d in stored_then_died)
    _die(first)

    second = DecisionJournal(directory, sessionmaker)
    await second.start()
    every = sorted(d["id"] for d in stored_then_died + never_stored)
    assert await _stored(db_engine) == every
    await second.stop()
    await alive.stop()
    assert list(directory.glob("*.jsonl")) == []  # everything stored: no file left behind
    assert await _stored(db_engine) == every


async def test_a_long_running_journal_starts_new_files_and_stores_everything(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine, tmp_path: Path
) -> None:
    experience, profile = await _setup(api_client, db_engine)
    journal = DecisionJournal(tmp_path / "decisions", create_sessionmaker(db_engine))
    await journal.start()
    assert journal._task is not None
    journal._task.cancel()  # the flushes are the test's alone
    first_file = journal._path
    written: list[str] = []
    for _ in range(60):  # under steady traffic: never empty when a flush ends
        rows = _decisions(experience, profile, 200)
        journal.write(rows)
        written += [row["id"] for row in rows]
        flushing = asyncio.create_task(journal.flush())
        await asyncio.sleep(0)  # the flush has taken its rows and waits for the insert
        late = _decisions(experience, profile, 1)
        journal.write(late)
        written += [row["id"] for row in late]
        await flushing
    [current] = (tmp_path / "decisions").glob("*.jsonl")
    assert current != first_file  # a new file, the old one gone
    assert current.stat().st_size < 1 << 20
    _die(journal)  # whatever the current file holds is owed, and only that
    again = DecisionJournal(tmp_path / "decisions", create_sessionmaker(db_engine))
    await again.start()
    assert await _stored(db_engine) == sorted(written)
    await again.stop()
