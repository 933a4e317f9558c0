"""Durations as people write them in journeys: `45s`, `30m`, `1h`, `7d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_PATTERN = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a whole number and a unit (s, m, h, d, w), e.g. 30m, 1h, 7d"
        )
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise ValueError(f"{text!r} is zero: a duration must be positive")
    return timedelta(**{_UNITS[unit]: amount})


def format_duration(duration: timedelta) -> str:
    """The inverse of `parse_duration`, in the largest whole unit: one day → `1d`, 90 minutes → `90m`."""
    seconds = int(duration.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
