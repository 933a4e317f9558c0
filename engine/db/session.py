"""The SQLAlchemy engine and sessionmaker, created once per process (docs/architecture.md, where state
lives)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from engine.settings import Settings


def create_engine(settings: Settings, *, fixed_pool: bool = False) -> AsyncEngine:
    """`fixed_pool` (the API): `database_pool_size` connections and no overflow. An overflow connection is
    closed as soon as it comes back while the pool is full, so under steady request load they would be
    opened and closed all the time, each re-running asyncpg's type introspection and re-preparing
    statements. The worker keeps 10 + 10 overflow: its load comes in bursts (a dispatch batch, a sweep),
    where the overflow absorbs the peak instead of queueing routing behind it."""
    size = settings.database_pool_size if fixed_pool else 10
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=size,
        max_overflow=0 if fixed_pool else size,
        # The API answers 503 (Retry-After) rather than hold a caller for SQLAlchemy's default 30 s.
        pool_timeout=settings.database_pool_timeout if fixed_pool else 30,
        # No pre-ping: it costs a round trip on every checkout (a tenth of the worker's time in the
        # journey benchmark). A connection lost to a database restart fails the one statement using it,
        # SQLAlchemy then recycles the whole pool; activities retry, API clients get a 503 and retry.
        pool_recycle=1800,
    )


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose connections are in autocommit from checkout (see `autocommit`), taken only when the
    session first runs a statement: a read answered on a driver connection never checks one out for it."""
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def autocommit(session: AsyncSession) -> None:
    """Puts a fresh session's connection in autocommit: for reads that need no snapshot across their
    statements, a lone SELECT is then one round trip instead of three (BEGIN, SELECT, ROLLBACK). The
    pool resets the connection when it comes back."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@asynccontextmanager
async def driver_connection(session: AsyncSession) -> AsyncIterator[Any]:
    """A pooled asyncpg connection of the session's engine, outside the session and its transaction, for a
    hot statement atomic on its own: around such a statement SQLAlchemy's session and cursor cost the API
    several times what asyncpg itself does."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("driver_connection needs a session made by create_sessionmaker")
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        try:
            yield driver
        except Exception as error:
            if not driver.is_closed():
                raise
            # What SQLAlchemy does when one of its own statements meets a dead connection (a database
            # restart, a network cut): the connection dropped, the pool recycled, a DBAPIError saying so
            # (the API's 503 with Retry-After).
            await connection.invalidate(error)
            await engine.dispose(close=False)
            raise DBAPIError("(asyncpg statement)", None, error, connection_invalidated=True) from error


@lru_cache(maxsize=256)
def _positional(statement: TextClause) -> tuple[str, tuple[str, ...]]:
    compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    return str(compiled), tuple(compiled.positiontup or ())


async def driver_fetch(session: AsyncSession, statement: TextClause, params: dict[str, Any]) -> list[Any]:
    """Runs a read-path `text()` statement (a module constant or cached: its positional form is cached by
    identity) on a `driver_connection`: asyncpg records, jsonb decoded (the dialect's codec), without
    SQLAlchemy's session, execute and result layers, a large share of a read-path request's CPU."""
    sql, names = _positional(statement)
    async with driver_connection(session) as driver:
        rows: list[Any] = await driver.fetch(sql, *(params[name] for name in names))
        return rows


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: services return ORM objects that routes serialise after the commit.
    return async_sessionmaker(engine, expire_on_commit=False)
