"""The experience language: what a website or app shows in one placement, to whom, decided per request
(engine.experiences.decide). Defined like journeys: versioned, validated with paths."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from engine.journeys.conditions import Condition
from engine.journeys.dsl import Duration, Strict

NAME = r"^[A-Za-z0-9_-]{1,100}$"


class Variation(Strict):
    """What a placement shows: `content` (a template rendering HTML or text) or `payload` (JSON for apps)."""

    content: str | None = Field(default=None, max_length=100_000)
    payload: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one(self) -> Variation:
        if (self.content is None) == (self.payload is None):
            raise ValueError("give exactly one of `content` or `payload`")
        return self


class Rule(Strict):
    when: Condition
    variation: str = Field(pattern=NAME)


class ExperienceSplit(Strict):
    """Who matches no rule is split among these variations (weights add up to 100), sticky per person."""

    weights: dict[str, int] = Field(min_length=2)
    control: str = Field(pattern=NAME)


class Cap(Strict):
    max: int = Field(ge=1, description="decisions shown per person")
    per: Duration


class ExperienceGoal(Strict):
    """What a split is judged on: a person converts when they send `event` within `within` of first seeing
    it; its value (revenue) from the event's `revenue` or `total`."""

    event: str = Field(min_length=1, max_length=200)
    within: Duration = "7d"


class ExperienceDefinition(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")
    name: str = Field(min_length=1, max_length=200)
    placement: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="e.g. homepage_hero")
    audience: Condition | None = Field(default=None, description="who sees this experience at all")
    rules: list[Rule] = Field(default_factory=list, description="in order: the first that holds decides")
    split: ExperienceSplit | None = None
    default: str = Field(pattern=NAME, description="the variation when no rule holds (and no split)")
    variations: dict[str, Variation] = Field(min_length=1)
    cap: Cap | None = None
    holdout: int = Field(
        default=0,
        ge=0,
        le=50,
        description="percent of people shown only the default: what the rules and split add",
    )
    goal: ExperienceGoal | None = Field(default=None, description="what the report compares")

    @model_validator(mode="after")
    def _variations_exist(self) -> ExperienceDefinition:
        named = [("default", self.default)] + [
            (f"rules[{i}].variation", r.variation) for i, r in enumerate(self.rules)
        ]
        if self.split is not None:
            named += [("split.control", self.split.control)] + [
                ("split.weights", name) for name in self.split.weights
            ]
            if sum(self.split.weights.values()) != 100:
                raise ValueError(f"split.weights add up to {sum(self.split.weights.values())}, not 100")
            if self.split.control not in self.split.weights:
                raise ValueError(f"split.control {self.split.control!r} is not one of split.weights")
        for path, name in named:
            if name not in self.variations:
                raise ValueError(f"{path}: no variation named {name!r}")
        return self
