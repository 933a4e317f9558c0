"""What the enrollments API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine.enrollments.contracts import EnrollmentView


class EnrollmentCreate(BaseModel):
    """Enroll one profile by hand (trying a journey out); apps enroll people by posting events."""

    profile_id: str = Field(min_length=1, max_length=200)
    event: str | None = Field(default=None, description="entry event name; the journey's trigger by default")
    properties: dict[str, Any] = Field(default_factory=dict)
    message_id: str | None = Field(default=None, max_length=200)


class EnrollmentStarted(BaseModel):
    workflow_id: str
    enrollment_id: str | None  # None when refused
    # False: already enrolled here (the event went to that enrollment, whose id is returned), or refused.
    started: bool
    refused: str | None = Field(default=None, description="why no enrollment began (re-entry policy)")


class EnrollmentSummary(BaseModel):
    id: str
    journey: str
    version: int
    profile_id: str
    correlation: str | None
    status: str
    current_node: str | None
    holdout: bool
    started_at: datetime
    ended_at: datetime | None


class StepOut(BaseModel):
    node_id: str
    visit: int
    node_type: str
    decision: dict[str, Any] | None
    entered_at: datetime


class DeliveryOut(BaseModel):
    id: int
    node_key: str
    channel: str
    template: str | None
    template_version: int | None = None
    status: str  # pending | sent | skipped | deferred | failed
    reason: str | None = Field(description="why it was held back or failed")
    payload: dict[str, Any]
    created_at: datetime
    scheduled_at: datetime | None = Field(
        default=None, description="the journey's time of the (last) attempt"
    )
    sent_at: datetime | None = None


class ExposureOut(BaseModel):
    node_id: str
    variant: str
    exposed_at: datetime


class EnrollmentDetail(EnrollmentSummary):
    workflow_id: str
    steps: list[StepOut]
    deliveries: list[DeliveryOut]
    exposures: list[ExposureOut]
    live: EnrollmentView | None = Field(description="from the running workflow: what it waits for now")
