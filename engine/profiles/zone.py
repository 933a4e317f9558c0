"""Which clock a customer lives by."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.db.models import Profile


def profile_zone(profile: Profile | None, default: str) -> ZoneInfo:
    """The profile's timezone (column, else `timezone` trait), else the default; unknown names too."""
    return zone_of(profile.timezone, profile.traits, default) if profile else zone_of(None, {}, default)


def zone_of(timezone: str | None, traits: dict[str, Any], default: str) -> ZoneInfo:
    stated = timezone or traits.get("timezone")
    try:
        return ZoneInfo(stated if isinstance(stated, str) and stated else default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def next_time_of_day(now: datetime, hhmm: str, zone: ZoneInfo) -> datetime:
    """The next moment the clock on the customer's wall shows `hhmm` (today if still ahead, else tomorrow)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    local_now = now.astimezone(zone)
    candidate = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if candidate <= local_now:
        candidate = datetime.combine(local_now.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return candidate.astimezone(now.tzinfo)
