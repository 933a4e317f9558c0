"""The rules a message must pass at send time, as pure functions of what the repository counted.
Each that holds a message back says why: a deferral says until when, a skip is final."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.profiles.zone import next_time_of_day


@dataclass(frozen=True)
class Hold:
    status: str  # skipped | deferred
    reason: str
    until: datetime | None = None


def quiet_hours_end(as_of: datetime, zone: ZoneInfo, window: str) -> datetime | None:
    """When the quiet hours around `as_of` end, or None if the customer's clock is outside them.
    `21:00-08:00` wraps over midnight; `13:00-14:00` does not."""
    start_text, _, end_text = window.partition("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    now = as_of.astimezone(zone).time().replace(tzinfo=None)
    inside = (start <= now < end) if start <= end else (now >= start or now < end)
    return next_time_of_day(as_of, end_text, zone) if inside else None


def rate_limit_release(
    sent_in_window: int, oldest_in_window: datetime | None, limit: int, per: timedelta
) -> datetime | None:
    """When a journey over its rate may send again: as the oldest send in the window ages out."""
    if sent_in_window < limit or oldest_in_window is None:
        return None
    return oldest_in_window + per
