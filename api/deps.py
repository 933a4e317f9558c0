"""Dependency aliases (FastAPI template style): routes ask for `SessionDep`, `TemporalDep`, `SettingsDep`.

Dependencies are `async def` even when they do no I/O: FastAPI runs a plain `def` dependency in its
thread pool, a thread hop per dependency per request (a few a request, and jitter in the read path's
p99 under load)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from engine.experiences.decide import DecisionPath
from engine.ingestion.group_commit import GroupCommit
from engine.ingestion.rate_limits import IngestLimits
from engine.settings import Settings


@dataclass
class AppState:
    """Everything created once per process in the lifespan."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]  # autocommit, for GET routes
    temporal: Client
    group_commit: GroupCommit  # the ingest hot path's shared statements
    limits: IngestLimits  # ingestion's request budgets, per write key and per client address
    decisions: DecisionPath  # /v1/decide's cached definitions and decision journal


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.journeys
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    return state.settings


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    # The request is the transaction boundary: services never commit; this commits after the route
    # returns and rolls back if it raised (so a rejected request leaves nothing). A route that must make
    # rows visible before calling Temporal commits explicitly at that point.
    async with state.sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        if session.in_transaction():  # a route that never used its session has nothing to commit
            await session.commit()


async def get_read_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    # GET routes: under READ COMMITTED every statement sees the latest commits whether or not a
    # transaction wraps them, so reads skip the BEGIN and COMMIT round trips (two of the inbox's four).
    async with state.read_sessionmaker() as session:
        yield session


async def get_temporal(state: StateDep) -> Client:
    return state.temporal


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit runs before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]
