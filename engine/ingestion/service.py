"""Ingestion: each accepted message becomes, in one transaction, an event (unique by messageId), a
profile update and an outbox row. Events of known people and nothing else take a short cut
(engine.ingestion.group_commit); the rest come here, in the caller's transaction. The API answers 200
once either has committed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.service import CONSENT_EVENTS, ConsentService
from engine.errors import Problem
from engine.events.names import event_key
from engine.events.repository import EventRepository
from engine.identity.service import IdentityService, Pair
from engine.ingestion.schemas import MAX_EVENT_BYTES, IngestResult, SegmentMessage
from engine.profiles.repository import ProfileRepository

CLOCK_SKEW_LIMIT = timedelta(minutes=5)
NUL, NUL_ESCAPE = "\x00", "\\u0000"


def corrected_timestamp(message: SegmentMessage, received_at: datetime) -> datetime:
    """Segment's rule: the device clock may be wrong, but the gap between `timestamp` (or
    `originalTimestamp`) and `sentAt`, both device times, is right; anchor it at our receive time."""
    device_time = message.timestamp or message.originalTimestamp
    if device_time is None:
        return received_at
    device_time = device_time if device_time.tzinfo else device_time.replace(tzinfo=UTC)
    if message.sentAt is not None:
        sent_at = message.sentAt if message.sentAt.tzinfo else message.sentAt.replace(tzinfo=UTC)
        device_time = received_at - (sent_at - device_time)
    # An event from the future is a broken clock, not a prophecy.
    return min(device_time, received_at + CLOCK_SKEW_LIMIT)


# A foreign key to a profile deleted meanwhile (an erasure), or a deadlock PostgreSQL broke.
RACES = ("23503", "40P01")


def raced(error: DBAPIError) -> bool:
    """Whether the ingest failed for what a concurrent erasure or merge did, not for its data: asked
    again, it succeeds."""
    return getattr(error.orig, "sqlstate", None) in RACES


def parse_message(raw: Any, implied_type: str | None) -> SegmentMessage:
    if isinstance(raw, dict) and implied_type is not None:
        raw = {**raw, "type": implied_type}
    return SegmentMessage.model_validate(raw)


def problems_of(error: ValidationError, prefix: str) -> list[Problem]:
    out = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        path = f"{prefix}.{location}" if location else prefix
        out.append(Problem(path, str(item["msg"]).removeprefix("Value error, ")))
    return out


def oversized(raw: Any) -> bool:
    return len(json.dumps(raw, separators=(",", ":"), default=str).encode()) > MAX_EVENT_BYTES


def nul_character(raw: Any, path: str) -> Problem | None:
    """Where `raw` holds U+0000 (`\\u0000` in JSON), which PostgreSQL's text and jsonb cannot store: the
    statement would fail (a 500) after the request was accepted as valid."""
    if isinstance(raw, str):
        return (
            Problem(path, f"contains the NUL character ({NUL_ESCAPE}), which cannot be stored")
            if NUL in raw
            else None
        )
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    for key, value in items:
        inner = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key.replace(NUL, NUL_ESCAPE)}"
        found = nul_character(key, inner) or nul_character(value, inner)
        if found is not None:
            return found
    return None


def _pairs(messages: list[SegmentMessage]) -> list[Pair]:
    return [(m.user_id, m.anonymous_id) for m in messages]


def changes_only_events(message: SegmentMessage) -> bool:
    """No traits, no alias, no consent: the message adds an event and touches nothing else."""
    if message.type == "alias" or message.all_traits:
        return False
    return not (message.type == "track" and event_key(message.event_name) in CONSENT_EVENTS)


def event_rows(
    messages: list[SegmentMessage], profiles: list[str] | None, received_at: datetime
) -> list[dict[str, Any]]:
    """Event rows, by messageId (a batch may repeat one), with the person's profile when it is resolved
    and their userId/anonymousId always."""
    rows: dict[str, dict[str, Any]] = {}
    for index, message in enumerate(messages):
        message_id = message.messageId or f"journeys-{uuid.uuid4()}"
        profile_id = profiles[index] if profiles is not None else None
        rows.setdefault(message_id, _row(message, message_id, profile_id, received_at))
    return list(rows.values())


def _row(
    message: SegmentMessage, message_id: str, profile_id: str | None, received_at: datetime
) -> dict[str, Any]:
    properties = dict(message.properties)
    if message.type in ("page", "screen") and message.name:
        properties.setdefault("name", message.name)
    if message.type == "group":
        properties.setdefault("group_id", message.groupId)
    return {
        "message_id": message_id,
        "profile_id": profile_id,
        "user_id": message.user_id,
        "anonymous_id": message.anonymous_id,
        "type": message.type,
        "name": message.event_name,
        "properties": properties,
        "context": message.context,
        "timestamp": corrected_timestamp(message, received_at),
    }


class IngestionService:
    """The path for any message: people resolved (created, linked, merged), traits and consent recorded,
    then the events, in the caller's transaction. engine.ingestion.group_commit is the short cut for
    events of known people."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events = EventRepository(session)
        self.identity = IdentityService(session)
        self.profiles = ProfileRepository(session)
        self.consent = ConsentService(session)

    async def ingest(
        self, messages: list[SegmentMessage], received_at: datetime, history: bool = False
    ) -> IngestResult:
        """Everything in a handful of statements, however many messages: profiles resolved together,
        traits merged per person, then events, outbox rows and the dispatcher's wake-up in one."""
        profiles = await self._profiles(messages)
        traits: dict[str, dict[str, Any]] = {}
        timezones: dict[str, str] = {}
        for message, profile_id in zip(messages, profiles, strict=True):
            if message.all_traits:
                traits.setdefault(profile_id, {}).update(message.all_traits)
                timezone = message.all_traits.get("timezone") or message.context.get("timezone")
                if isinstance(timezone, str):
                    timezones[profile_id] = timezone
        await self.profiles.upsert_many(
            [(profile_id, merged, timezones.get(profile_id)) for profile_id, merged in traits.items()]
        )
        for message, profile_id in zip(messages, profiles, strict=True):
            if message.type == "track" and event_key(message.event_name) in CONSENT_EVENTS:
                await self.consent.from_event(profile_id, message.event_name, message.properties)
        stored = await self.events.store(event_rows(messages, profiles, received_at), history)
        return IngestResult(accepted=stored, duplicates=len(messages) - stored)

    async def _profiles(self, messages: list[SegmentMessage]) -> list[str]:
        if any(message.type == "alias" for message in messages):
            # Aliases change identities as they go: resolve strictly in order.
            out = []
            for message in messages:
                if message.type == "alias":
                    out.append(await self.identity.alias(str(message.previousId), str(message.user_id)))
                else:
                    out.append(await self.identity.resolve(message.user_id, message.anonymous_id))
            return out
        resolved = await self.identity.resolve_many(_pairs(messages))
        return [resolved[pair] for pair in _pairs(messages)]
