"""When two event names mean the same event. Segment's specs name events in Title Case with spaces
(`Order Completed`), many apps in snake_case (`order_completed`) or camelCase (`orderCompleted`): the same
event to a marketer. Names are stored as sent and compared by their key, everywhere (entries, waits, goals,
exits, signals, consent): one rule, in Python here and in SQL as the events table's `name_key` column."""

from __future__ import annotations

import re

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[\s_.\-]+")

# The same rule over a text column, for the generated column (migration 0015) and its model. A name that
# is its own key already (snake_case, the usual case) is taken as it is: every stored event computes this,
# and one match costs PostgreSQL far less than two replacements.
KEY_SQL = (
    "CASE WHEN {column} ~ '^[a-z0-9]+(_[a-z0-9]+)*$' THEN {column} ELSE"
    " lower(trim(both '_' from regexp_replace(regexp_replace({column}, '([a-z0-9])([A-Z])', '\\1_\\2', 'g'),"
    " '[[:space:]_.-]+', '_', 'g'))) END"
)


def event_key(name: str) -> str:
    """`Order Completed`, `order-completed`, `orderCompleted` → `order_completed`."""
    return _SEPARATORS.sub("_", _CAMEL.sub(r"\1_\2", name)).strip("_").lower()


def same_event(a: str, b: str) -> bool:
    return event_key(a) == event_key(b)
