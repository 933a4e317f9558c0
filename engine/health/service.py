"""Readiness: can this process reach what it needs right now? Each check answers within a bound."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


async def check_postgres(engine: AsyncEngine) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return Check("postgres", False, _reason(error))
    return Check("postgres", True, "ok")


async def check_temporal(client: Client) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            healthy = await client.service_client.check_health()
    except Exception as error:
        return Check("temporal", False, _reason(error))
    return Check("temporal", healthy, "ok" if healthy else "frontend reports not serving")


async def readiness(engine: AsyncEngine, client: Client) -> list[Check]:
    return list(await asyncio.gather(check_postgres(engine), check_temporal(client)))
