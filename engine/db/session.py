"""The SQLAlchemy engine and sessionmaker, created once per process (DESIGN.md section 9)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from engine.settings import Settings


def create_engine(settings: Settings, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every checkout (a tenth of the worker's time in the
        # journey benchmark). A connection lost to a database restart fails the one statement using it,
        # SQLAlchemy then recycles the whole pool; activities retry, API clients get a 503 and retry.
        pool_recycle=1800,
    )


async def autocommit(session: AsyncSession) -> None:
    """Puts a fresh session's connection in autocommit: for reads that need no snapshot across their
    statements, a lone SELECT is then one round trip instead of three (BEGIN, SELECT, ROLLBACK). The
    pool resets the connection when it comes back."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: services return ORM objects that routes serialise after the commit.
    return async_sessionmaker(engine, expire_on_commit=False)
