"""Concurrent requests for known people share one statement and one commit (group commit): each still
gets its own answer, only once its events are committed, and what one of them holds cannot cost the
others theirs."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from engine.identity.service import IdentityService
from engine.ingestion.group_commit import GroupCommit
from engine.ingestion.schemas import IngestResult, SegmentMessage

BASIC = {"Authorization": "Basic " + base64.b64encode(b"test-write-key:").decode()}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/track", json=body, headers=BASIC)
    assert response.status_code == 200, response.text
    return {key: response.json()[key] for key in ("accepted", "duplicates")}


async def query(db_engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with db_engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_concurrent_requests_are_committed_together_and_each_gets_its_own_answer(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    for n in range(20):  # known people
        await post(api_client, {"userId": f"u{n}", "event": "signed_up", "messageId": f"first-{n}"})
    known = [{"userId": f"u{n}", "event": "cart_updated", "messageId": f"cart-{n}"} for n in range(20)]
    new_people = [{"anonymousId": f"visitor-{n}", "event": "cart_updated"} for n in range(4)]
    replays = [{"userId": "u1", "event": "signed_up", "messageId": "first-1"}]
    same_twice = [{"userId": "u2", "event": "clicked", "messageId": "twice"}] * 2

    answers = await asyncio.gather(
        *(post(api_client, body) for body in known + new_people + replays + same_twice)
    )

    assert answers[:24] == [{"accepted": 1, "duplicates": 0}] * 24
    assert answers[24] == {"accepted": 0, "duplicates": 1}
    assert sorted(answer["accepted"] for answer in answers[25:]) == [0, 1]  # one of the two stored it
    [(events, message_ids, queued, new_profiles)] = await query(
        db_engine,
        "SELECT count(*), count(DISTINCT message_id), (SELECT count(*) FROM outbox),"
        " (SELECT count(*) FROM identities WHERE kind = 'anonymous_id') FROM events",
    )
    assert (events, message_ids, queued, new_profiles) == (20 + 20 + 4 + 1, 45, 45, 4)
    # Rows written by one transaction share its id (xmin): the 21 known people's requests took fewer.
    [(transactions,)] = await query(
        db_engine,
        "SELECT count(DISTINCT xmin::text) FROM events"
        " WHERE message_id LIKE 'cart-%' OR message_id = 'twice'",
    )
    assert transactions < 21


async def test_a_row_the_database_refuses_sends_its_whole_statement_the_careful_way_and_writes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], db_engine: AsyncEngine
) -> None:
    group_commit = GroupCommit(sessionmaker, writers=1)
    now = datetime.now(UTC)

    def track(user_id: str, properties: dict[str, Any]) -> list[SegmentMessage]:
        body = {"type": "track", "userId": user_id, "event": "e", "properties": properties}
        return [SegmentMessage.model_validate(body)]

    async with sessionmaker.begin() as session:
        await IdentityService(session).resolve("ann", None)
    # The API refuses U+0000 before this point; here it stands for any row PostgreSQL would not take.
    answers = await asyncio.gather(
        group_commit.ingest(track("ann", {"n": 1}), now),
        group_commit.ingest(track("ann", {"bad": "\x00"}), now),
        group_commit.ingest(track("ann", {"n": 3}), now),
    )

    assert list(answers) == [None, None, None]
    assert await query(db_engine, "SELECT count(*) FROM events") == [(0,)]
    after = await group_commit.ingest(track("ann", {"n": 4}), now)
    assert after == IngestResult(accepted=1)


async def test_requests_waiting_together_are_shared_out_over_the_writers(
    sessionmaker: async_sessionmaker[AsyncSession], db_engine: AsyncEngine
) -> None:
    # Taken whole by one writer, the requests of a closed loop of clients move in lockstep and the API
    # idles while PostgreSQL writes them (engine.ingestion.group_commit).
    group_commit = GroupCommit(sessionmaker, writers=2)
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        await IdentityService(session).resolve("ann", None)
    body = {"type": "track", "userId": "ann", "event": "e"}

    answers = await asyncio.gather(
        *(group_commit.ingest([SegmentMessage.model_validate(body)], now) for _ in range(10))
    )

    assert list(answers) == [IngestResult(accepted=1)] * 10
    statements = await query(db_engine, "SELECT count(*) FROM events GROUP BY xmin::text")
    assert sorted(statements) == [(5,), (5,)]
