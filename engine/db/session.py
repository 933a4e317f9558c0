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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: services return ORM objects that routes serialise after the commit.
    return async_sessionmaker(engine, expire_on_commit=False)
