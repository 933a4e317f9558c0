"""The built-in signals: named aggregates over a customer's events and traits, read when a branch runs.
Custom signals (declared through the API) extend this set. Event names are compared as
engine.events.names does (`Order Completed` is order_completed), and Segment's e-commerce spec is read."""

from __future__ import annotations

BUILTIN_SIGNALS: dict[str, str] = {
    "cart_value": "total of the latest cart_updated, or value of the latest Checkout Started",
    "orders_count": "number of order_completed events, all time",
    "lifetime_value": "sum of order_completed revenue (or total, when no revenue), all time",
    "days_since_last_order": "days since the latest order_completed (null if none)",
    "logins_7d": "number of logged_in (or Signed In) events in the last 7 days",
    "days_since_last_login": "days since the latest logged_in or Signed In (null if none)",
    "open_tickets": "support tickets opened minus tickets closed",
    "engagement_score": "0-100, activity with a 7-day half-life",
    "email_opens_30d": "number of email_opened events in the last 30 days",
}
