"""Shared set-up for the messaging tests: a harness whose worker has its own messaging settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from engine.db.models import Delivery
from engine.settings import Settings
from engine.templates.service import TemplateService, TemplateUpdate
from tests.runtime.conftest import running_harness
from tests.runtime.harness import Harness


@asynccontextmanager
async def harness_with(
    env: WorkflowEnvironment,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    crm_url: str,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    async with running_harness(env, sessionmaker, settings.model_copy(update=overrides), crm_url) as harness:
        yield harness


async def put_template(harness: Harness, name: str, body: str, subject: str | None = None) -> None:
    async with harness.sessionmaker() as session, session.begin():
        await TemplateService(session).put(name, TemplateUpdate(subject=subject, body=body))


async def deliveries(harness: Harness, enrollment_id: str) -> list[Delivery]:
    async with harness.sessionmaker() as session:
        query = select(Delivery).where(Delivery.enrollment_id == enrollment_id).order_by(Delivery.id)
        return list((await session.execute(query)).scalars())
