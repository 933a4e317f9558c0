"""A shop simulator: customers who buy, browse, log in and read email the way the buy-till-you-die story
says real ones do (Fader, Hardie & Lee 2005, "Counting your customers the easy way"), with the truth
kept, so models trained on the engine's events can be checked against what actually happened next.

Each customer, acquired at a random moment of the first three quarters of the window:
- buys at their own rate λ ~ Gamma(r, α) while alive (a Poisson process), the first order at once for
  most of them; after each order they drop out for good with their own probability p ~ Beta(a, b);
- spends around their own mean (lognormal across customers, Gamma around it per order);
- logs in, updates carts and opens emails at rates that follow their purchase rate, much less once gone.

The simulation runs on past the window's end for `horizon_days`: those orders are never posted; they are
the truth a churn model's held-out score is checked against."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Heterogeneity, in days: mean purchase rate r/α ≈ one order every 45 days; mean dropout 0.15 an order.
R, ALPHA = 0.8, 36.0
A, B = 1.0, 5.5
FIRST_ORDER = 0.8  # share of customers whose first visit ends in an order


@dataclass
class Truth:
    user_id: str
    rate_per_day: float
    dropout: float
    alive_at_end: bool
    orders_in_window: int
    orders_in_horizon: int  # after the window's end: never posted
    revenue_in_horizon: float


@dataclass
class Simulated:
    messages: list[dict[str, Any]] = field(default_factory=list)  # Segment messages, in time order per person
    truth: list[Truth] = field(default_factory=list)


def _poisson_times(rng: random.Random, rate: float, start: float, end: float) -> Iterator[float]:
    moment = start
    while rate > 0:
        moment += rng.expovariate(rate)
        if moment >= end:
            return
        yield moment


def _customer(
    rng: random.Random, index: int, days: int, horizon: int, start: datetime
) -> tuple[list[dict[str, Any]], Truth]:
    user = f"sim-{index:06d}"
    rate, dropout = rng.gammavariate(R, 1 / ALPHA), rng.betavariate(A, B)
    mean_spend = rng.lognormvariate(4.0, 0.5)
    acquired = rng.uniform(0, days * 0.75)
    orders: list[float] = [acquired] if rng.random() < FIRST_ORDER else []
    alive_until = float("inf")
    if orders and rng.random() < dropout:
        alive_until = acquired
    moment = acquired
    while alive_until == float("inf"):
        moment += rng.expovariate(rate) if rate > 0 else float("inf")
        if moment >= days + horizon:
            break
        orders.append(moment)
        if rng.random() < dropout:
            alive_until = moment
    events: list[tuple[float, str, dict[str, Any]]] = []
    values = {when: round(rng.gammavariate(4, mean_spend / 4), 2) for when in orders}
    for number, when in enumerate(orders):
        cart = f"{user}-c{number}"
        events.append((max(acquired, when - 0.01), "cart_updated", {"cart_id": cart, "total": values[when]}))
        events.append((when, "order_completed", {"cart_id": cart, "revenue": values[when], "order_id": cart}))
    end_alive = min(alive_until + 30, days)  # engagement fades within a month of leaving
    for name, per_day in (("logged_in", 0.03 + 3 * rate), ("email_opened", 0.04), ("cart_updated", rate / 2)):
        for when in _poisson_times(rng, per_day, acquired, end_alive):
            events.append(
                (
                    when,
                    name,
                    {"cart_id": f"{user}-a{int(when)}", "total": 30} if name == "cart_updated" else {},
                )
            )
        for when in _poisson_times(rng, per_day / 10, end_alive, days):
            events.append((when, name, {}))
    events.sort(key=lambda event: event[0])
    messages: list[dict[str, Any]] = [
        {
            "type": "identify",
            "userId": user,
            "traits": {"email": f"{user}@example.com"},
            "timestamp": (start + timedelta(days=acquired)).isoformat(),
            "messageId": f"{user}-identify",
        }
    ]
    for number, (when, name, properties) in enumerate(events):
        if when >= days:
            continue
        messages.append(
            {
                "type": "track",
                "userId": user,
                "event": name,
                "properties": properties,
                "timestamp": (start + timedelta(days=when)).isoformat(),
                "messageId": f"{user}-{number}",
            }
        )
    future = [when for when in orders if days <= when < days + horizon]
    truth = Truth(
        user_id=user,
        rate_per_day=rate,
        dropout=dropout,
        alive_at_end=alive_until >= days,
        orders_in_window=sum(1 for when in orders if when < days),
        orders_in_horizon=len(future),
        revenue_in_horizon=round(sum(values[when] for when in future), 2),
    )
    return messages, truth


def simulate(customers: int, days: int, end: datetime, horizon_days: int = 90, seed: int = 1) -> Simulated:
    """`customers` over the `days` before `end`; the same seed gives the same shop."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    out = Simulated()
    for index in range(customers):
        messages, truth = _customer(rng, index, days, horizon_days, start)
        out.messages += messages
        out.truth.append(truth)
    return out
