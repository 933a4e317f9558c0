"""The journey language as Pydantic models (docs/journeys.md). A definition that parses here is
structurally sound; `validator.py` adds the checks that need the whole graph or the catalogs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from engine.durations import parse_duration
from engine.journeys.conditions import Condition


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day: write HH:MM on a 24-hour clock, e.g. 09:30")
    return value


Duration = Annotated[str, AfterValidator(_duration)]
TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
NodeId = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ── entry, goal, exit ────────────────────────────────────────────────────────────────────────────────


class Reentry(Strict):
    mode: Literal["never", "always", "after_exit"] = "never"
    cooldown: Duration | None = Field(default=None, description="only with after_exit: wait this long")

    @model_validator(mode="after")
    def _cooldown_needs_after_exit(self) -> Reentry:
        if self.cooldown is not None and self.mode != "after_exit":
            raise ValueError("`cooldown` applies only to mode `after_exit`")
        return self


class EventEntry(Strict):
    """Enroll when the app sends `event` (and `when` holds for it)."""

    event: str = Field(min_length=1)
    when: Condition | None = None
    correlate: str | None = Field(default=None, description="entry-event path, e.g. properties.cart_id")
    reentry: Reentry = Reentry()


class AudienceEntry(Strict):
    """Enroll a profile when it *starts* matching `audience` (evaluated on events and by a periodic sweep)."""

    audience: Condition
    reentry: Reentry = Reentry()


def _entry_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "<audience>" if "audience" in value else "<event>"
    return "<audience>" if isinstance(value, AudienceEntry) else "<event>"


Entry = Annotated[
    Annotated[EventEntry, Tag("<event>")] | Annotated[AudienceEntry, Tag("<audience>")],
    Discriminator(_entry_kind),
]


class EntryRef(Strict):
    entry: str = Field(description="entry-event path whose value the awaited event must carry")


# Event path → a literal, or {entry: path} of the entry event: which events are "the same" as the entry's
# (an order for this cart, not any order).
Match = dict[str, EntryRef | str | int | float | bool]


ATTRIBUTION_WINDOW = "3d"  # a goal's, unless it says otherwise


class Goal(Strict):
    event: str = Field(min_length=1)
    when: Condition | None = None
    within: Duration = Field(
        default=ATTRIBUTION_WINDOW, description="attribution window from the split exposure"
    )
    value: str | None = Field(
        default=None, description="goal-event path holding revenue, e.g. properties.revenue"
    )
    exit: bool = True
    match: Match = Field(
        default_factory=dict,
        description="goal-event path → literal, or {entry: path}: the entry's `correlate` path, so an order"
        " for one cart reaches only that cart's enrollment",
    )


class ExitCriterion(Strict):
    """Ends the enrollment at once, even mid-wait: an event (optionally filtered) or a profile condition."""

    event: str | None = None
    when: Condition | None = None

    @model_validator(mode="after")
    def _event_or_condition(self) -> ExitCriterion:
        if self.event is None and self.when is None:
            raise ValueError("give an `event`, a `when` condition over the profile, or both")
        return self


# ── nodes ────────────────────────────────────────────────────────────────────────────────────────────


class WaitNode(Strict):
    """Wait a duration, until a time of day (profile's timezone), or until a date held in a profile trait."""

    type: Literal["wait"]
    duration: Duration | None = None
    until_time: TimeOfDay | None = None
    until_trait: str | None = Field(default=None, description="trait holding an ISO date/time")
    offset: str | None = Field(default=None, description="with until_trait: e.g. -1d for the day before")
    next: NodeId

    @model_validator(mode="after")
    def _exactly_one_target(self) -> WaitNode:
        given = [
            name for name in ("duration", "until_time", "until_trait") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of `duration`, `until_time` or `until_trait`")
        if self.offset is not None:
            if self.until_trait is None:
                raise ValueError("`offset` applies only to `until_trait`")
            parse_duration(self.offset.removeprefix("-"))
        return self


class WaitForEventNode(Strict):
    type: Literal["wait_for_event"]
    event: str = Field(min_length=1)
    match: Match = Field(
        default_factory=dict, description="awaited-event path → literal, or {entry: path} of the entry event"
    )
    timeout: Duration
    on_event: NodeId
    on_timeout: NodeId


class Case(Strict):
    when: Condition
    next: NodeId


class BranchNode(Strict):
    type: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    default: NodeId


class Variant(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    weight: int = Field(ge=0, le=100)
    next: NodeId


class Adaptive(Strict):
    """Thompson sampling over the variants' posteriors, with a floor and a cadence."""

    enabled: bool = True
    min_weight: int = Field(default=5, ge=0, le=50)
    update_every: Duration = "1h"
    min_exposures: int = Field(default=100, ge=1)


class SplitNode(Strict):
    type: Literal["split"]
    variants: list[Variant] = Field(min_length=2)
    control: str | None = Field(
        default=None, description="variant the others are compared with; first by default"
    )
    adaptive: Adaptive | None = None

    @property
    def control_name(self) -> str:
        return self.control or self.variants[0].name


# `stored`: kept as a delivery row and shown by the API, sent nowhere (trying a journey, or another system
# reading the rows). It was called `outbox` before that word was kept for the transactional outbox; published
# definitions and running enrollments still say `outbox`, read here as `stored`.
OLD_CHANNEL_NAMES = {"outbox": "stored"}
Channel = Annotated[
    Literal["stored", "email", "sms", "push", "in_app"],
    BeforeValidator(lambda name: OLD_CHANNEL_NAMES.get(name, name) if isinstance(name, str) else name),
]


class SendNode(Strict):
    type: Literal["send"]
    channel: Channel = "stored"
    template: str = Field(min_length=1)
    content: dict[str, str] = Field(
        default_factory=dict, description="variant name → template for that variant"
    )
    transactional: bool = Field(
        default=False, description="receipts and alerts: not held by quiet hours or frequency caps"
    )
    on_failure: Literal["continue", "exit"] = "continue"
    next: NodeId


class WebhookNode(Strict):
    type: Literal["webhook"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(pattern=r"^https?://[^\s/]+", description="templated; host must be allow-listed")
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | str | None = None
    on_failure: Literal["continue", "exit"] = "continue"
    next: NodeId


class UpdateProfileNode(Strict):
    type: Literal["update_profile"]
    set: dict[str, Any] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)
    next: NodeId


class ExitNode(Strict):
    type: Literal["exit"]


Node = Annotated[
    WaitNode
    | WaitForEventNode
    | BranchNode
    | SplitNode
    | SendNode
    | WebhookNode
    | UpdateProfileNode
    | ExitNode,
    Field(discriminator="type"),
]
NODE_TYPES = ("wait", "wait_for_event", "branch", "split", "send", "webhook", "update_profile", "exit")
WAITING_TYPES = ("wait", "wait_for_event")


def edges(node: Any) -> list[tuple[str, str]]:
    """(path within the node, target) for every outgoing edge; works on models and on raw dicts."""
    raw = node.model_dump(by_alias=True) if isinstance(node, BaseModel) else node
    if not isinstance(raw, dict):
        return []
    out = [
        (key, raw[key])
        for key in ("next", "on_event", "on_timeout", "default")
        if isinstance(raw.get(key), str)
    ]
    for list_key in ("cases", "variants"):
        items = raw.get(list_key)
        if isinstance(items, list):
            out += [
                (f"{list_key}[{i}].next", item["next"])
                for i, item in enumerate(items)
                if isinstance(item, dict) and isinstance(item.get("next"), str)
            ]
    return out


def _quiet_hours(value: str) -> str:
    if value != "off":
        start, _, end = value.partition("-")
        _time_of_day(start)
        _time_of_day(end)
    return value


class RateLimit(Strict):
    """At most `max` messages of this journey per rolling `per`; the rest wait their turn."""

    max: int = Field(ge=1)
    per: Duration


class JourneyDefinition(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$", description="stable id, e.g. abandoned-cart")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    entry: Entry
    goal: Goal | None = None
    offline_goals: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        description="goals reported through POST /api/outcomes (a CRM deal won, a refund), credited to"
        " exposures inside the goal's attribution window",
    )
    exit_when: list[ExitCriterion] = Field(default_factory=list)
    holdout: int = Field(default=0, ge=0, le=50, description="% of entrants kept from every message")
    quiet_hours: Annotated[str, AfterValidator(_quiet_hours)] | None = Field(
        default=None,
        description="`HH:MM-HH:MM` in the profile's timezone (messages wait until it ends), or `off`;"
        " unset = the engine default",
    )
    rate_limit: RateLimit | None = None
    start: NodeId
    nodes: dict[NodeId, Node] = Field(min_length=1)
