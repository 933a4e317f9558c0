"""A trained model version applied to one customer: churn risk, expected orders, lifetime value, the
expected date of the next order, RFM scores and segment, and cluster, each prediction with the features
that moved it most. Pure: the same for the live read (engine.signals) and for scoring everyone at training."""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from engine.predictions import features
from engine.predictions.bgnbd import BgNbd

PREDICTIVE_SIGNALS: dict[str, str] = {
    "churn_risk": "probability of no order within the prediction horizon (JOURNEYS_PREDICTION_HORIZON)",
    "expected_orders": "expected number of orders within the prediction horizon",
    "predicted_clv": "expected revenue within the next 365 days",
    "expected_next_order_at": "expected date of the next order (null when none is expected within a year)",
    "rfm_recency": "1-5: quintile of days since the last order among customers who ordered (5: latest)",
    "rfm_frequency": "1-5: quintile of the number of orders (5: most)",
    "rfm_monetary": "1-5: quintile of revenue (5: most)",
    "rfm_segment": "champions, loyal, new, potential_loyalists, cant_lose, at_risk, hibernating or lost",
    "cluster": "id of the behavioural cluster (k-means); its description is listed with the model",
}
EXPLAINED = ("churn_risk", "expected_orders")


def _logistic(params: dict[str, Any], row: list[float]) -> float:
    z = params["intercept"] + sum(c * v for c, v in zip(params["coef"], row, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def _scaled(params: dict[str, Any], values: dict[str, float]) -> list[float]:
    return [
        (v - m) / s
        for v, m, s in zip(features.transformed(values), params["mean"], params["scale"], strict=True)
    ]


def _bgnbd_inputs(values: dict[str, float]) -> tuple[float, float, float]:
    """(x, t_x, T) in days from a customer's inputs; never-ordered customers count from their arrival."""
    if not values["ever_ordered"]:
        return 0.0, 0.0, values["tenure"]
    first = values.get("first_order", values["tenure"])
    return values["orders"] - 1, max(first - values["recency"], 0.0), first


def churn(model: dict[str, Any], values: dict[str, float]) -> float:
    kind = model["churn"]
    if kind == "supervised":
        return _logistic(model["logistic"], _scaled(model["scaler"], values))
    if kind == "bgnbd":
        x, t_x, big_t = (np.array([v]) for v in _bgnbd_inputs(values))
        return float(BgNbd(**model["bgnbd"]).p_no_purchase(x, t_x, big_t, model["horizon_days"])[0])
    edges, rates = model["recency"]["edges"], model["recency"]["rates"]
    return float(rates[bisect.bisect_right(edges, values["recency"])])


def expected_orders(model: dict[str, Any], values: dict[str, float], horizon: float | None = None) -> float:
    horizon = horizon or model["horizon_days"]
    if model["orders_model"] == "bgnbd":
        x, t_x, big_t = (np.array([v]) for v in _bgnbd_inputs(values))
        return float(BgNbd(**model["bgnbd"]).expected(x, t_x, big_t, horizon)[0])
    poisson = model["poisson"]
    rate = math.exp(
        min(
            poisson["intercept"]
            + sum(c * v for c, v in zip(poisson["coef"], _scaled(model["scaler"], values), strict=True)),
            20.0,
        )
    )
    return float(rate * horizon / model["horizon_days"])


def _explain(
    model: dict[str, Any], values: dict[str, float], score: float, predict: Any, what: str
) -> list[dict[str, Any]]:
    """The three features that moved this score most: each set to the typical customer's value (the
    training median), how much the score falls or rises."""
    effects = []
    for name in features.INPUTS:
        typical = {**values, name: model["medians"][name]}
        effect = score - predict(model, typical)
        if abs(effect) > 1e-4:
            effects.append((name, effect))
    effects.sort(key=lambda item: -abs(item[1]))
    return [
        {
            "feature": name,
            "value": round(values[name], 2),
            "effect": round(effect, 4),
            "text": f"{features.phrase(name, values[name])} {'↑' if effect > 0 else '↓'} {what}",
        }
        for name, effect in effects[:3]
    ]


def _quintile(cuts: list[float], value: float, higher_is_better: bool) -> int:
    rank = bisect.bisect_left(cuts, value)  # 0..4
    return rank + 1 if higher_is_better else 5 - rank


def rfm_segment(r: int, f: int) -> str:
    """The usual RFM grid over recency and frequency scores (docs/predictions.md)."""
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r == 5 and f == 1:
        return "new"
    if r >= 3:
        return "potential_loyalists"
    if r == 1 and f >= 4:
        return "cant_lose"
    if f >= 3:
        return "at_risk"
    return "hibernating" if r == 2 else "lost"


def cluster_of(clusters: dict[str, Any], values: dict[str, float]) -> int:
    # Plain Python: for one customer, numpy's per-call overhead is most of the cost (the live read path).
    row = _scaled(clusters["scaler"], values)
    distances = [
        sum((a - b) ** 2 for a, b in zip(row, centroid, strict=True)) for centroid in clusters["centroids"]
    ]
    return int(clusters["ids"][distances.index(min(distances))])


def predict(
    model: dict[str, Any], raw: dict[str, Any], now: datetime, explain: bool = True
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Every predictive signal for a customer with raw features `raw` (engine.predictions.features), and
    the explanations of churn risk and expected orders."""
    values = features.inputs(raw)
    values["first_order"] = float(raw.get("days_since_first_order") or values["tenure"])
    risk = churn(model, values)
    orders = expected_orders(model, values)
    year = expected_orders(model, values, 365.0)
    average = model["average_order"]
    spend = (values["orders"] * values["average_order"] + average["k"] * average["population"]) / (
        values["orders"] + average["k"]
    )
    days_to_next = model["horizon_days"] / orders if orders > 0.01 else None
    signals: dict[str, Any] = {
        "churn_risk": round(risk, 4),
        "expected_orders": round(orders, 3),
        "predicted_clv": round(year * spend, 2),
        "expected_next_order_at": (now + timedelta(days=days_to_next)).date().isoformat()
        if days_to_next is not None and days_to_next <= 365
        else None,
        "rfm_recency": None,
        "rfm_frequency": None,
        "rfm_monetary": None,
        "rfm_segment": None,
        "cluster": cluster_of(model["clusters"], values),
    }
    if values["ever_ordered"]:
        cuts = model["rfm"]
        r = _quintile(cuts["recency"], values["recency"], higher_is_better=False)
        f = _quintile(cuts["frequency"], values["orders"], higher_is_better=True)
        m = _quintile(cuts["monetary"], float(raw.get("revenue") or 0), higher_is_better=True)
        signals |= {"rfm_recency": r, "rfm_frequency": f, "rfm_monetary": m, "rfm_segment": rfm_segment(r, f)}
    if not explain:  # a condition's read: the scores alone (an explanation costs twenty more evaluations)
        return signals, {}
    explanations = {
        "churn_risk": _explain(model, values, risk, churn, "risk"),
        "expected_orders": _explain(model, values, orders, expected_orders, "orders"),
    }
    return signals, explanations
