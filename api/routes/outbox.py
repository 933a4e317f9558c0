"""The outbox's dead letters: events whose routing kept failing for a reason of their own, parked so the
rest flow; an operator retries (after a fix) or drops them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status

from api.auth import AdminDep
from api.deps import SessionDep
from engine.outbox.service import DeadLetterService, OutboxStatus, ParkedEvent

router = APIRouter(prefix="/api/outbox", tags=["operations"], dependencies=[AdminDep])
NOT_PARKED: dict[int | str, dict[str, Any]] = {404: {"description": "No parked event with this id"}}


@router.get("")
async def outbox_status(session: SessionDep) -> OutboxStatus:
    """How many events wait to be routed, and how many are parked."""
    return await DeadLetterService(session).status()


@router.get("/dead")
async def parked_events(
    session: SessionDep, limit: int = Query(default=100, ge=1, le=1000)
) -> list[ParkedEvent]:
    """Parked events, oldest first, each with the error of its last attempt."""
    return await DeadLetterService(session).parked(limit)


@router.post("/dead/{entry_id}/retry", status_code=status.HTTP_202_ACCEPTED, responses=NOT_PARKED)
async def retry_parked(entry_id: int, session: SessionDep) -> None:
    """Put a parked event back in the queue (after fixing its cause): it is routed again."""
    await DeadLetterService(session).retry(entry_id)
    await session.commit()


@router.delete("/dead/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_PARKED)
async def drop_parked(entry_id: int, session: SessionDep) -> None:
    """Give a parked event up: it is never routed (the event itself stays stored)."""
    await DeadLetterService(session).drop(entry_id)
    await session.commit()
