"""Segment HTTP tracking API messages (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/):
the same field names and meaning, so an app switches to journeys by changing the host only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MessageType = Literal["track", "identify", "page", "screen", "group", "alias"]
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
Id = str | int
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class SegmentMessage(BaseModel):
    # Unknown fields (integrations, channel, version…) are accepted and ignored, as Segment does.
    model_config = ConfigDict(extra="ignore")

    type: MessageType
    messageId: str | None = Field(default=None, max_length=200)
    userId: Id | None = None
    anonymousId: Id | None = None
    event: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    groupId: Id | None = None
    previousId: Id | None = None

    @field_validator("userId", "anonymousId", "groupId", "previousId")
    @classmethod
    def _ids_as_text(cls, value: Id | None) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        if not text or len(text) > 200:
            raise ValueError("must be 1 to 200 characters")
        return text

    @field_validator("timestamp", "originalTimestamp", "sentAt")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        # The clock-skew correction subtracts these from each other: a year-1 timestamp sent at year 9999
        # overflows any date type. No event of a real app happened before 1970 or after 2200.
        if (
            value is not None
            and not EARLIEST <= (value if value.tzinfo else value.replace(tzinfo=UTC)) < LATEST
        ):
            raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
        return value

    @model_validator(mode="after")
    def _required_by_type(self) -> SegmentMessage:
        if self.userId is None and self.anonymousId is None:
            raise ValueError("userId or anonymousId is required")
        if self.type == "track" and not self.event:
            raise ValueError("a track call needs `event`")
        if self.type == "alias" and (self.previousId is None or self.userId is None):
            raise ValueError("an alias call needs `userId` and `previousId`")
        if self.type == "group" and self.groupId is None:
            raise ValueError("a group call needs `groupId`")
        return self

    @property
    def user_id(self) -> str | None:
        return None if self.userId is None else str(self.userId)

    @property
    def anonymous_id(self) -> str | None:
        return None if self.anonymousId is None else str(self.anonymousId)

    @property
    def event_name(self) -> str:
        """What journeys match on: the track event's name; other calls by their type."""
        return self.event if self.type == "track" and self.event else self.type

    @property
    def all_traits(self) -> dict[str, Any]:
        """identify/group traits, and context.traits that SDKs attach to every call."""
        context_traits = self.context.get("traits")
        own = self.traits if self.type == "identify" else {}
        return {**context_traits, **own} if isinstance(context_traits, dict) else dict(own)


class IngestResult(BaseModel):
    """Segment SDKs read a 200 as success; `rejected` lists batch items refused (they are not retried)."""

    success: bool = True
    accepted: int
    duplicates: int = 0
    rejected: list[dict[str, Any]] = Field(default_factory=list)
