"""What /v1/decide accepts and answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

MAX_CONTEXT = 8_000  # characters of JSON: a page's URL, referrer, UTM and device, with room to spare


class DecideRequest(BaseModel):
    userId: str | None = Field(default=None, max_length=200)
    anonymousId: str | None = Field(default=None, max_length=200)
    placements: list[str] = Field(min_length=1, max_length=20)
    context: dict[str, Any] = Field(default_factory=dict, description="page, referrer, UTM, device, …")
    explain: bool = Field(default=False, description="also say which rule held and the values read")

    @model_validator(mode="after")
    def _someone(self) -> DecideRequest:
        if not self.userId and not self.anonymousId:
            raise ValueError("give `userId` or `anonymousId`")
        return self


class PlacementDecision(BaseModel):
    placement: str
    experience: str | None = Field(description="null: no experience here for this person")
    variation: str | None
    decision_id: str | None
    content: str | None = None
    payload: dict[str, Any] | None = None
    capped: bool = Field(default=False, description="shown as often as its cap allows: nothing shown")
    explanation: dict[str, Any] | None = None


class DecideResponse(BaseModel):
    profile_id: str
    decisions: list[PlacementDecision]
