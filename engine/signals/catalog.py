"""The built-in signals: named aggregates over a customer's events and traits, read when a branch runs.
Custom signals (declared through the API) extend this set."""

from __future__ import annotations

BUILTIN_SIGNALS: dict[str, str] = {
    "cart_value": "total of the customer's latest cart_updated event",
    "orders_count": "number of order_completed events, all time",
    "lifetime_value": "sum of order_completed revenue, all time",
    "days_since_last_order": "days since the latest order_completed (null if none)",
    "logins_7d": "number of logged_in events in the last 7 days",
    "days_since_last_login": "days since the latest logged_in (null if none)",
    "open_tickets": "support tickets opened minus tickets closed",
    "engagement_score": "0-100, activity with a 7-day half-life",
    "email_opens_30d": "number of email_opened events in the last 30 days",
}
