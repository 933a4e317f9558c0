"""Finds conditions that can never hold (an entry that can never match), for the common shapes:
a leaf, or an `all` of leaves over the same fields. `any`/`not` are not analysed (no false alarms)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def _conjuncts(condition: Any) -> list[dict[str, Any]] | None:
    if isinstance(condition, dict) and isinstance(condition.get("all"), list):
        out: list[dict[str, Any]] = []
        for child in condition["all"]:
            flat = _conjuncts(child)
            if flat is None:
                return None
            out += flat
        return out
    if isinstance(condition, dict) and "op" in condition and not ({"any", "not"} & condition.keys()):
        return [condition]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def contradiction(condition: Any) -> str | None:
    """A sentence saying why the condition can never hold, or None if it may."""
    conjuncts = _conjuncts(condition)
    if conjuncts is None:
        return None
    by_field: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for leaf in conjuncts:
        path = leaf.get("field") or (f"profile.signals.{leaf['signal']}" if "signal" in leaf else None)
        if isinstance(path, str):
            by_field[path].append(leaf)
    for path, group in by_field.items():
        found = _field_contradiction(path, group)
        if found:
            return found
    return None


def _field_contradiction(path: str, group: list[dict[str, Any]]) -> str | None:
    ops = {op for leaf in group if isinstance(op := leaf.get("op"), str)}
    if {"exists", "not_exists"} <= ops:
        return f"{path} cannot both exist and not exist"
    low, low_strict, high, high_strict = float("-inf"), False, float("inf"), False
    equals: list[Any] = []
    for leaf in group:
        op, value = leaf.get("op"), leaf.get("value")
        number = _number(value)
        if op in ("in",) and value == []:
            return f"{path} in an empty list never holds"
        if op == "eq":
            equals.append(value)
        if number is None:
            continue
        if op in ("gt", "gte") and (number > low or (number == low and op == "gt")):
            low, low_strict = number, op == "gt"
        if op in ("lt", "lte") and (number < high or (number == high and op == "lt")):
            high, high_strict = number, op == "lt"
    if low > high or (low == high and (low_strict or high_strict)):
        return f"no value of {path} is above {low:g} and below {high:g} at once"
    if len({repr(v) for v in equals}) > 1:
        return f"{path} cannot equal {equals[0]!r} and {equals[1]!r} at once"
    for value in equals:
        for leaf in group:
            op, other = leaf.get("op"), leaf.get("value")
            if (op == "ne" and other == value) or (
                op == "not_in" and isinstance(other, list) and value in other
            ):
                return f"{path} must equal {value!r} and must not"
            if op == "in" and isinstance(other, list) and value not in other:
                return f"{path} must equal {value!r}, which is not in {other!r}"
        number = _number(value)
        if number is not None and not (low <= number <= high):
            return f"{path} must equal {value!r}, outside the range the other conditions allow"
    return None
