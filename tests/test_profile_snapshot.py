"""What a branch reads of a person (engine.profiles.snapshot): merges followed, built-in and custom signals
as of the workflow's time, the timezone, and begin_enrollment's "is the enrollment recorded?" in the same
statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.enrollments.contracts import ProfileInput
from engine.profiles.snapshot import read_snapshot, snapshot_if_recorded

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Ann (timezone in her traits) absorbed an anonymous profile; her events, one after NOW."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO profiles (id, traits) VALUES"
                " ('ann', '{\"plan\": \"pro\", \"timezone\": \"Europe/Paris\"}'), ('anon-1', '{}')"
            )
        )
        await session.execute(text("UPDATE profiles SET merged_into = 'ann' WHERE id = 'anon-1'"))
        await session.execute(
            text(
                "INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
                " VALUES ('m1', 'ann', 'track', 'cart_updated', '{\"total\": 80}', '{}', :t1),"
                " ('m2', 'ann', 'track', 'cart_updated', '{\"total\": 120}', '{}', :t2),"
                " ('m3', 'ann', 'track', 'cart_updated', '{\"total\": 999}', '{}', :later),"
                " ('m4', 'ann', 'track', 'page_viewed', '{}', '{}', :t1)"
            ),
            {
                "t1": NOW - timedelta(hours=2),
                "t2": NOW - timedelta(hours=1),
                "later": NOW + timedelta(hours=1),
            },
        )
        await session.execute(
            text(
                "INSERT INTO custom_signals (name, kind, event) VALUES ('pages_seen', 'count', 'page_viewed')"
            )
        )


async def test_a_merged_id_reads_the_survivor_as_of_the_time_asked(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessionmaker)
    read = ProfileInput(profile_id="anon-1", signals=["cart_value", "pages_seen"], as_of=NOW)
    async with sessionmaker() as session:
        snapshot = await read_snapshot(session, read, "UTC")
    assert snapshot.profile_id == "anon-1"  # the enrollment's own id, as begun
    assert snapshot.traits == {"plan": "pro", "timezone": "Europe/Paris"}
    assert snapshot.signals == {"cart_value": 120, "pages_seen": 1}  # not the cart updated after NOW
    assert snapshot.timezone == "Europe/Paris"


async def test_nobody_reads_as_empty_with_the_default_timezone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    read = ProfileInput(profile_id="nobody", signals=["orders_count"], as_of=NOW)
    async with sessionmaker() as session:
        snapshot = await read_snapshot(session, read, "America/New_York")
    assert (snapshot.traits, snapshot.signals, snapshot.timezone) == (
        {},
        {"orders_count": 0},
        "America/New_York",
    )


async def test_the_start_read_comes_only_once_the_enrollment_is_recorded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessionmaker)
    read = ProfileInput(profile_id="ann", signals=["cart_value"], as_of=NOW)
    async with sessionmaker() as session:
        assert await snapshot_if_recorded(session, "enr-1", read, "UTC") is None
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("INSERT INTO journeys (key, name, status) VALUES ('cart', 'Cart', 'live')")
        )
        await session.execute(
            text(
                "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, status, holdout,"
                " started_at) SELECT 'enr-1', 'wf-1', id, 1, 'ann', 'active', false, now() FROM journeys"
            )
        )
    async with sessionmaker() as session:
        snapshot = await snapshot_if_recorded(session, "enr-1", read, "UTC")
    assert snapshot is not None
    assert snapshot.signals == {"cart_value": 120}


async def test_a_read_of_traits_alone_gives_one_snapshot_however_many_events(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A condition on traits only asks for no signal: Ann has four events, Bea none."""
    await seed(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("INSERT INTO profiles (id, traits) VALUES ('bea', '{\"plan\": \"free\"}')")
        )
    async with sessionmaker() as session:
        ann = await read_snapshot(session, ProfileInput(profile_id="ann", signals=[], as_of=NOW), "UTC")
        bea = await read_snapshot(session, ProfileInput(profile_id="bea", signals=[], as_of=NOW), "UTC")
    assert (ann.traits["plan"], ann.signals) == ("pro", {})
    assert (bea.traits, bea.signals) == ({"plan": "free"}, {})
