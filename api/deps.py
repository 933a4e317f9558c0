"""Dependency aliases (FastAPI template style): routes ask for `SessionDep`, `TemporalDep`, `SettingsDep`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from engine.settings import Settings


@dataclass
class AppState:
    """Everything created once per process in the lifespan."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    temporal: Client


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.journeys
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings(state: StateDep) -> Settings:
    return state.settings


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    # The request is the transaction boundary: services never commit, this does (after the route returns).
    async with state.sessionmaker() as session, session.begin():
        yield session


def get_temporal(state: StateDep) -> Client:
    return state.temporal


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
