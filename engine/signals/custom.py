"""Custom signals declared through the API: count|sum|last|first|distinct of an event (or one of its
properties), optionally within a rolling window. Compiled to one SQL aggregate each, like the built-ins."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from engine.durations import parse_duration
from engine.events.names import event_key
from engine.signals.numbers import numeric_sql

Kind = Literal["count", "sum", "last", "first", "distinct"]
_PROPERTY = re.compile(r"^[A-Za-z0-9_]{1,100}$")


class CustomSignalCreate(BaseModel):
    kind: Kind
    event: str = Field(min_length=1, max_length=200)
    property: str | None = Field(default=None, pattern=_PROPERTY.pattern, description="event property")
    window: str | None = Field(default=None, description="e.g. 30d; all time if absent")
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> CustomSignalCreate:
        if self.kind in ("sum", "last", "first", "distinct") and self.property is None:
            raise ValueError(f"`{self.kind}` needs a `property` to aggregate")
        if self.window is not None:
            parse_duration(self.window)
        return self


class CustomSignal(CustomSignalCreate):
    name: str


def aggregate_sql(
    kind: str, event: str, prop: str | None, window_seconds: int | None
) -> tuple[str, dict[str, object]]:
    """An aggregate over `events e` (as of :as_of) with its bind parameters; names are bound, never pasted."""
    suffix = uuid_suffix(kind, event, prop, window_seconds)
    params: dict[str, object] = {f"ev_{suffix}": event_key(event)}
    where = f"e.name_key = :ev_{suffix}"
    if window_seconds:
        where += f" AND e.timestamp > :as_of - make_interval(secs => :win_{suffix})"
        params[f"win_{suffix}"] = window_seconds
    value = "e.properties->>:prop_" + suffix if prop else "NULL"
    if prop:
        params[f"prop_{suffix}"] = prop
    if kind == "count":
        return f"count(*) FILTER (WHERE {where})", params
    if kind == "sum":
        return f"coalesce(sum({numeric_sql(value)}) FILTER (WHERE {where}), 0)", params
    if kind == "distinct":
        return f"count(DISTINCT {value}) FILTER (WHERE {where})", params
    order = "DESC" if kind == "last" else "ASC"
    return f"(array_agg({value} ORDER BY e.timestamp {order}) FILTER (WHERE {where}))[1]", params


def uuid_suffix(*parts: object) -> str:
    import hashlib

    return hashlib.sha1(repr(parts).encode()).hexdigest()[:8]
