"""Who is in each segment, kept as people's events arrive (engine.outbox.router calls `update` for every
routed event) and by the audience sweep for changes time alone makes ("no order in 60 days"). Entering or
leaving a segment records the change and posts `segment_entered` / `segment_exited` (properties:
`segment`, `version`) for the person, routed like any event: journeys enter, exit or convert on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.enrollments.contracts import ProfileInput
from engine.events.repository import EventRepository
from engine.journeys.conditions import Condition
from engine.journeys.context import condition_context, profile_context
from engine.journeys.evaluate import evaluate, signals_used
from engine.profiles.repository import ProfileRepository
from engine.profiles.snapshot import read_snapshot
from engine.segments.repository import LiveSegment, SegmentRepository

SEGMENT_EVENTS = {"entered": "segment_entered", "exited": "segment_exited"}
_CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
PAGE = 500


def _condition(segment: LiveSegment) -> Condition:
    return _CONDITION.validate_python(segment.condition)  # microseconds: not worth a cache to invalidate


async def update(
    session: AsyncSession,
    profile_id: str,
    now: datetime,
    cause: str,
    default_timezone: str = "UTC",
    segments: list[LiveSegment] | None = None,
) -> list[tuple[str, str]]:
    """Re-evaluates every segment for the person; returns (segment key, entered|exited) for each change.
    Idempotent: `cause` (the event or sweep that asked) names the events it posts. `segments`: the live
    ones as the caller holds them (routing keeps them for a moment, as it keeps the live journeys)."""
    repo = SegmentRepository(session)
    if segments is None:
        segments = await repo.live()
    if not segments:
        return []
    conditions = [(segment, _condition(segment)) for segment in segments]
    names = sorted({name for _, condition in conditions for name in signals_used(condition)})
    snapshot = await read_snapshot(
        session,
        ProfileInput(profile_id=profile_id, signals=names, as_of=now),
        default_timezone,
        explain=False,
    )
    current = await repo.memberships(profile_id)
    keys = [segment.key for segment in segments if segment.id in current]
    context = condition_context(profile=profile_context(profile_id, snapshot.traits, snapshot.signals, keys))
    changes: list[tuple[LiveSegment, str]] = []
    inside = context["profile"]["segments"]
    # In creation order, each seeing the changes before it: a segment built on an older one follows at once.
    for segment, condition in conditions:
        holds = evaluate(condition, context, now)
        if holds and segment.id not in current and await repo.enter(segment, profile_id, now):
            changes.append((segment, "entered"))
            inside[segment.key] = True
        elif not holds and segment.id in current and await repo.exit(segment, profile_id, now):
            changes.append((segment, "exited"))
            inside.pop(segment.key, None)
    if changes:
        await EventRepository(session).store(
            [_event(profile_id, segment, change, now, cause) for segment, change in changes]
        )
    return [(segment.key, change) for segment, change in changes]


def _event(profile_id: str, segment: LiveSegment, change: str, now: datetime, cause: str) -> dict[str, Any]:
    return {
        "message_id": f"segment:{segment.key}:{change}:{profile_id}:{cause}"[:200],
        "profile_id": profile_id,
        "type": "track",
        "name": SEGMENT_EVENTS[change],
        "properties": {"segment": segment.key, "version": segment.version},
        "context": {},
        "timestamp": now,
    }


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    default_timezone: str = "UTC",
    progress: Callable[[str], None] = lambda _: None,
) -> int:
    """Every person against every segment (what time alone changes); returns how many changes it made."""
    changed, after = 0, ""
    async with sessionmaker() as session:
        if not await SegmentRepository(session).live():
            return 0
    while True:
        async with sessionmaker() as session:
            page = await ProfileRepository(session).page_present(after, PAGE)
        if not page:
            return changed
        after = page[-1]
        for profile_id in page:
            async with sessionmaker() as session, session.begin():
                changed += len(
                    await update(session, profile_id, now, f"sweep-{now.isoformat()}", default_timezone)
                )
        progress(f"segments: through {after}")
