"""Condition evaluation. Pure and deterministic: the workflow calls it with values that came from
activities (recorded in history), so a replay decides exactly as the original run did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.durations import parse_duration
from engine.journeys.conditions import All, AnyOf, Condition, Leaf, Not
from engine.journeys.dsl import EntryRef, Match
from engine.signals.numbers import as_number

MISSING = object()


def lookup(context: dict[str, Any], path: str) -> Any:
    """`event.properties.cart_id` in `{"event": {"properties": {...}}}`; MISSING if any step is absent."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def matches(match: Match, properties: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether an event with these properties carries what `match` asks (paths start `properties.`): each
    path's literal, or the value the entry event (its context) has at `{entry: path}`."""
    for path, expected in match.items():
        want = lookup(entry, expected.entry) if isinstance(expected, EntryRef) else expected
        got = lookup({"properties": properties}, path)
        if got is MISSING or want is MISSING or got != want:
            return False
    return True


def as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _compare(op: str, actual: Any, expected: Any, now: datetime) -> bool:
    if op == "exists":
        return actual is not MISSING and actual is not None
    if op == "not_exists":
        return actual is MISSING or actual is None
    if actual is MISSING or actual is None:
        return op in ("ne", "not_in")
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        return isinstance(actual, str | list | dict) and expected in actual
    if op in ("within", "older_than"):
        moment = as_time(actual)
        if moment is None:
            return False
        age = now - moment
        return age <= parse_duration(expected) if op == "within" else age > parse_duration(expected)
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        # A number sent as text ("12.50") compares as the number it is, as numeric signals read it.
        number = as_number(actual)
        actual = actual if number is None else number
    try:
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        if op == "lte":
            return bool(actual <= expected)
    except TypeError:
        return False  # "abc" > 3: a type mismatch never matches rather than failing the enrollment
    raise ValueError(f"unknown operator {op!r}")


def evaluate(condition: Condition, context: dict[str, Any], now: datetime) -> bool:
    if isinstance(condition, All):
        return all(evaluate(child, context, now) for child in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(child, context, now) for child in condition.any)
    if isinstance(condition, Not):
        return not evaluate(condition.not_, context, now)
    return _compare(condition.op, lookup(context, condition.path), condition.value, now)


def used_paths(condition: Condition) -> list[str]:
    if isinstance(condition, All):
        return [p for child in condition.all for p in used_paths(child)]
    if isinstance(condition, AnyOf):
        return [p for child in condition.any for p in used_paths(child)]
    if isinstance(condition, Not):
        return used_paths(condition.not_)
    assert isinstance(condition, Leaf)
    return [condition.path]


def needs_profile(condition: Condition) -> bool:
    return any(path.startswith("profile.") for path in used_paths(condition))


def signals_used(condition: Condition) -> set[str]:
    return {
        p.split(".")[2]
        for p in used_paths(condition)
        if p.startswith("profile.signals.") and p.count(".") >= 2
    }
