"""The ingest hot path's one statement decides in SQL who is "known" (engine.identity.service._settled
decides it in Python for everyone else): these tests pin the two to each other, case by case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.events.repository import EventRepository
from engine.identity.service import IdentityService, Pair

PAIRS: list[Pair] = [
    ("u1", None),
    ("u1", "a1"),
    ("u1", "a2"),  # two known profiles: a merge
    ("u1", "a9"),  # a new visitor id to link
    ("u9", None),  # a new person
    ("u9", "a2"),  # a new user id to link
    (None, "a1"),
    (None, "a2"),
    (None, "a9"),
]


def _row(pair: Pair) -> dict[str, object]:
    return {
        "message_id": uuid.uuid4().hex,
        "user_id": pair[0],
        "anonymous_id": pair[1],
        "type": "track",
        "name": "cart_updated",
        "properties": {"total": 3},
        "context": {},
        "timestamp": datetime.now(UTC),
    }


@pytest.fixture
async def people(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Profile u1 with visitor a1, and an anonymous profile for visitor a2."""
    async with sessionmaker() as session:
        identity = IdentityService(session)
        await identity.resolve("u1", "a1")
        await identity.resolve(None, "a2")
        await session.commit()


@pytest.mark.parametrize("pair", PAIRS, ids=str)
async def test_the_hot_path_stores_exactly_the_people_identity_resolution_would_leave_alone(
    sessionmaker: async_sessionmaker[AsyncSession], people: None, pair: Pair
) -> None:
    async with sessionmaker() as session:
        settled = (await IdentityService(session).lookup([pair])).settled.get(pair)
        row = _row(pair)
        [stored] = await EventRepository(session).store_for_known([[row]])
        found = await session.execute(
            text(
                "SELECT e.profile_id, o.id IS NOT NULL FROM events e LEFT JOIN outbox o ON o.event_id = e.id"
                " WHERE e.message_id = :m"
            ),
            {"m": row["message_id"]},
        )
        if settled is None:
            assert stored is None
            assert found.all() == []
        else:
            assert stored == 1
            assert found.one() == (settled, True)


async def test_an_unknown_person_in_one_request_stores_none_of_it_and_the_other_requests_are_stored(
    sessionmaker: async_sessionmaker[AsyncSession], people: None
) -> None:
    unknown_inside = [_row(("u1", None)), _row((None, "a2")), _row(("u9", None))]
    known, replay = [_row(("u1", "a1"))], [_row((None, "a2"))]
    async with sessionmaker() as session:
        events = EventRepository(session)
        assert await events.store_for_known([replay]) == [1]
        assert await events.store_for_known([unknown_inside, known, replay]) == [None, 1, 0]
        stored = await session.execute(text("SELECT message_id FROM events ORDER BY id"))
        assert list(stored.scalars()) == [replay[0]["message_id"], known[0]["message_id"]]


async def test_a_batch_is_queued_in_the_order_it_came_and_a_replay_is_not_stored_twice(
    sessionmaker: async_sessionmaker[AsyncSession], people: None
) -> None:
    rows = [_row(pair) for pair in [("u1", None), (None, "a2"), ("u1", "a1"), (None, "a2")] * 5]
    async with sessionmaker() as session:
        events = EventRepository(session)
        assert await events.store_for_known([rows]) == [20]
        assert await events.store_for_known([rows[:3]]) == [0]
        queued = await session.execute(
            text("SELECT e.message_id FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id")
        )
        assert list(queued.scalars()) == [row["message_id"] for row in rows]
