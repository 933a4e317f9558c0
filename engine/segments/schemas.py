"""What the segments API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.journeys.conditions import Condition

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"


class SegmentDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    condition: Condition = Field(
        description="over profile.traits.*, profile.signals.* (live, custom and predictive) and"
        " profile.segments.* (another segment's members), as in journeys"
    )


class SegmentOut(BaseModel):
    key: str
    name: str
    description: str | None
    version: int
    condition: dict[str, Any]
    members: int = Field(description="people in the segment now")
    updated_at: datetime


class SegmentSaved(SegmentOut):
    created: bool = Field(description="False: the definition was unchanged, no new version")


class Member(BaseModel):
    profile_id: str
    since: datetime


class Change(BaseModel):
    id: int
    profile_id: str
    change: Literal["entered", "exited"]
    version: int
    at: datetime
