"""Filters marketers need in messages: money, and dates on the customer's own clock.

`{{ entry.properties.total | money("EUR") }}` → `€1,234.50`;
`{{ event.timestamp | date }}` → `22 November 2026` in the profile's timezone;
`{{ event.timestamp | datetime("%H:%M") }}` → `23:05` there."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import pass_context
from jinja2.runtime import Context

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "KRW": "₩", "BRL": "R$"}
NO_DECIMALS = {"JPY", "KRW"}


def money(value: Any, currency: str = "USD") -> str:
    """An amount with its currency symbol, thousands separated, rounded half-up to the currency's cents."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"money: {value!r} is not an amount") from error
    code = currency.upper()
    places = Decimal(1) if code in NO_DECIMALS else Decimal("0.01")
    figure = f"{abs(amount.quantize(places, rounding=ROUND_HALF_UP)):,}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {code}"


def _zone(context: Context) -> ZoneInfo:
    profile = context.get("profile")
    name = profile.get("timezone") if isinstance(profile, dict) else None
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(f"date: {value!r} is not a date or time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pass_context
def local_date(context: Context, value: Any, format: str = "%-d %B %Y") -> str:
    return _moment(value).astimezone(_zone(context)).strftime(format)


@pass_context
def local_datetime(context: Context, value: Any, format: str = "%-d %B %Y %H:%M") -> str:
    return _moment(value).astimezone(_zone(context)).strftime(format)


FILTERS = {"money": money, "date": local_date, "datetime": local_datetime}
