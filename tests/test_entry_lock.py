"""The entry lock (EnrollmentRepository.lock_entry): racing entries of one (journey, profile, correlation)
are decided one after the other, each on what the one before it committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.db.models import Enrollment
from engine.enrollments.repository import EnrollmentRepository


async def test_an_entry_waiting_for_the_lock_reads_what_its_holder_committed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("INSERT INTO journeys (key, name, status) VALUES ('cart', 'Cart', 'live')")
        )
        journey_id = (await session.execute(text("SELECT id FROM journeys"))).scalar_one()

    async def second_entry() -> Enrollment | None:
        async with sessionmaker() as session, session.begin():
            return await EnrollmentRepository(session).lock_entry(journey_id, "ann", "cart-1")

    async with sessionmaker() as first, first.begin():
        repo = EnrollmentRepository(first)
        assert await repo.lock_entry(journey_id, "ann", "cart-1") is None
        await repo.add(
            Enrollment(
                id="first",
                workflow_id="journey:cart:ann:cart-1",
                journey_id=journey_id,
                version=1,
                profile_id="ann",
                correlation="cart-1",
                started_at=datetime.now(UTC),
            )
        )
        waiting = asyncio.create_task(second_entry())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # held at the lock until the first entry commits
        other = await EnrollmentRepository(first).lock_entry(journey_id, "ann", "cart-2")
        assert other is None  # another correlation is another key
    previous = await asyncio.wait_for(waiting, 10)
    assert previous is not None
    assert (previous.id, previous.status) == ("first", "active")
