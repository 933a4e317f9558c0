"""What the predictive models see of a customer: aggregates over their events up to a moment (`:as_of`),
as SQL expressions shared by training (a row per customer, as of a cut-off: nothing after it leaks in)
and by the live read (one customer, as of now).

Orders are the events named by JOURNEYS_ORDER_EVENT (default `order_completed`, which Segment's `Order
Completed` is too), their value the first number among JOURNEYS_ORDER_VALUE_PROPERTIES (default
`revenue`, then `total`). Read once per process, as the statements are built once."""

from __future__ import annotations

import math
from typing import Any

from engine.events.names import event_key
from engine.settings import get_settings
from engine.signals.numbers import numeric_sql


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_SETTINGS = get_settings()
_REVENUE = (
    "coalesce("
    + ", ".join(numeric_sql(f"e.properties->>{_literal(name)}") for name in _SETTINGS.order_value_properties)
    + ")"
)
_UPTO = "e.timestamp <= :as_of"
ORDER = _literal(event_key(_SETTINGS.order_event))  # the order event's name, as SQL
_ORDER = f"e.name_key = {ORDER} AND {_UPTO}"


def _days_since(condition: str, pick: str = "max") -> str:
    return f"extract(epoch FROM :as_of - {pick}(e.timestamp) FILTER (WHERE {condition})) / 86400"


def _count(condition: str, days: int | None = None) -> str:
    window = f" AND e.timestamp > :as_of - interval '{days} days'" if days else ""
    return f"count(*) FILTER (WHERE {condition}{window})"


# Raw features: name → aggregate over the customer's events `e`.
RAW_SQL: dict[str, str] = {
    "orders": _count(_ORDER),
    "revenue": f"coalesce(sum({_REVENUE}) FILTER (WHERE {_ORDER}), 0)",
    "days_since_last_order": _days_since(_ORDER),
    "days_since_first_order": _days_since(_ORDER, "min"),
    "tenure_days": _days_since(_UPTO, "min"),
    "days_since_last_event": _days_since(_UPTO),
    "orders_90d": _count(_ORDER, 90),
    "logins_30d": _count(f"e.name_key IN ('logged_in', 'signed_in') AND {_UPTO}", 30),
    "email_opens_30d": _count(f"e.name_key = 'email_opened' AND {_UPTO}", 30),
    "carts_30d": _count(f"e.name_key IN ('cart_updated', 'checkout_started') AND {_UPTO}", 30),
}
RAW = tuple(RAW_SQL)

# Model inputs, all numbers: a customer who never ordered counts as lapsed since they arrived.
INPUTS = (
    "recency",
    "ever_ordered",
    "orders",
    "average_order",
    "tenure",
    "orders_90d",
    "logins_30d",
    "email_opens_30d",
    "carts_30d",
    "last_seen",
)


def inputs(raw: dict[str, Any]) -> dict[str, float]:
    """The model's inputs from a customer's raw features (None where they have no such event)."""
    tenure = float(raw.get("tenure_days") or 0.0)
    orders = float(raw.get("orders") or 0)
    recency = raw.get("days_since_last_order")
    return {
        "recency": float(recency) if recency is not None else tenure,
        "ever_ordered": 1.0 if orders else 0.0,
        "orders": orders,
        "average_order": float(raw.get("revenue") or 0) / orders if orders else 0.0,
        "tenure": tenure,
        "orders_90d": float(raw.get("orders_90d") or 0),
        "logins_30d": float(raw.get("logins_30d") or 0),
        "email_opens_30d": float(raw.get("email_opens_30d") or 0),
        "carts_30d": float(raw.get("carts_30d") or 0),
        "last_seen": float(raw.get("days_since_last_event") or 0.0),
    }


def transformed(values: dict[str, float]) -> list[float]:
    """Counts and durations are skewed: the models see log(1 + x)."""
    return [
        values["ever_ordered"] if name == "ever_ordered" else math.log1p(max(values[name], 0.0))
        for name in INPUTS
    ]


def phrase(name: str, value: float) -> str:
    """A feature's value in a marketer's words."""
    whole = round(value)
    return {
        "recency": f"no order in {whole} days",
        "ever_ordered": "has ordered" if value else "never ordered",
        "orders": f"{whole} order{'s' if whole != 1 else ''}",
        "average_order": f"orders average {value:.0f}",
        "tenure": f"customer for {whole} days",
        "orders_90d": f"{whole} orders in the last 90 days",
        "logins_30d": f"{whole} logins in 30 days",
        "email_opens_30d": f"{whole} email opens in 30 days",
        "carts_30d": f"{whole} carts in 30 days",
        "last_seen": f"last seen {whole} days ago",
    }[name]
