"""What the journeys API returns (names follow `X` / `XSummary` / `XDetail`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from engine.journeys.activity import ActivityCounts

JourneyStatus = Literal["draft", "live", "paused", "archived"]


class ProblemOut(BaseModel):
    path: str
    message: str


class ValidationResult(BaseModel):
    valid: bool
    problems: list[ProblemOut]
    warnings: list[ProblemOut] = []  # allowed, but worth a look (e.g. a trait without a default)


class VersionSummary(BaseModel):
    version: int
    checksum: str
    author: str
    published_at: datetime


class VersionDetail(VersionSummary):
    definition: dict[str, Any]


class JourneySummary(BaseModel):
    key: str
    name: str
    status: JourneyStatus
    latest_version: int | None
    updated_at: datetime


class JourneyOverview(JourneySummary):
    activity: ActivityCounts


class JourneyDetail(JourneySummary):
    draft: dict[str, Any] | None
    versions: list[VersionSummary]
    definition: dict[str, Any] | None  # of the latest version


class DraftSaved(BaseModel):
    key: str
    status: JourneyStatus
    problems: list[ProblemOut]
    warnings: list[ProblemOut] = []


class PublishResult(BaseModel):
    key: str
    version: int
    created: bool  # False: the content equals the latest version, nothing was written
    status: JourneyStatus
    warnings: list[ProblemOut] = []


class Change(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class VersionDiff(BaseModel):
    key: str
    from_version: int
    to_version: int
    changes: list[Change]
    unified: str
