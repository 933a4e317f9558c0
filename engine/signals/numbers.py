"""What counts as a number in an event's properties: one rule for SQL (built-in and custom signals, report
breakdowns) and Python (goal values). JSON numbers, and strings written the same way ("12.50"); anything
else ("1.2.3", "12 EUR", true) is no number and is left out, never an error for anyone."""

from __future__ import annotations

import re
from typing import Any

# jsonb renders every number this way (no exponent), so `->>` text of a real number always matches.
PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_NUMBER = re.compile(PATTERN)


def numeric_sql(text_expression: str) -> str:
    """`text_expression` cast to numeric where it is a number, NULL where it is not."""
    return f"CASE WHEN {text_expression} ~ '{PATTERN}' THEN ({text_expression})::numeric END"


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None
