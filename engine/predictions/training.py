"""Training: the time split, the three churn models compared on held-out customers, the winner refitted,
RFM quintiles and behavioural clusters, everyone scored. Pure (numpy, scipy, scikit-learn): the rows come
from engine.predictions.repository.

The split is in time: features as of T − H (H the horizon), the label what each customer did in
(T − H, T]. Nothing after T − H is in a feature (the repository's SQL filters every aggregate by it).
Customers are then split 70/30: the models learn on 70%, and are compared on the other 30%."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.metrics import roc_auc_score, silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from engine.errors import Conflict
from engine.predictions import bgnbd, features

MIN_BUYERS = 200  # customers with an order before the cut-off: fewer and a 30% held-out set says little
MIN_EACH_LABEL = 30  # churned and retained customers each, for the AUC to mean something
CLUSTER_WORDS = {
    "recency": ("lapsed", "recent"),
    "orders": ("frequent", "one-off"),
    "average_order": ("high spend", "low spend"),
    "logins_30d": ("engaged", "rarely logs in"),
    "email_opens_30d": ("reads email", "ignores email"),
    "tenure": ("long-standing", "new"),
}


class NotEnoughData(Conflict):
    code = "not_enough_data"


@dataclass
class Trained:
    params: dict[str, Any]
    report: dict[str, Any]


def _values(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    out = []
    for raw in rows:
        values = features.inputs(raw)
        values["first_order"] = float(raw.get("days_since_first_order") or values["tenure"])
        out.append(values)
    return out


def _bgnbd_arrays(values: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([v["orders"] - 1 if v["ever_ordered"] else 0.0 for v in values])
    big_t = np.array([v["first_order"] if v["ever_ordered"] else v["tenure"] for v in values])
    t_x = np.array([max(v["first_order"] - v["recency"], 0.0) if v["ever_ordered"] else 0.0 for v in values])
    return x, t_x, big_t


def calibration_error(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-count bins: Σ share × |mean score − observed rate|."""
    order = np.argsort(scores)
    error = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            error += len(chunk) / len(scores) * abs(scores[chunk].mean() - labels[chunk].mean())
    return round(float(error), 4)


def _recency_rates(recency: np.ndarray, churned: np.ndarray) -> dict[str, list[float]]:
    edges = np.unique(np.quantile(recency, np.linspace(0.1, 0.9, 9)))
    buckets = np.searchsorted(edges, recency, side="right")
    overall = float(churned.mean())
    rates = [
        float(churned[buckets == b].mean()) if np.any(buckets == b) else overall
        for b in range(len(edges) + 1)
    ]
    return {"edges": edges.tolist(), "rates": rates}


def rfm_cuts(recency: list[float], frequency: list[float], monetary: list[float]) -> dict[str, list[float]]:
    """RFM's quintile cut points over the customers who ordered: days since their last order, orders,
    revenue (engine.predictions.scoring turns a customer's values into scores 1-5 with them)."""
    quintiles = [0.2, 0.4, 0.6, 0.8]
    return {
        "recency": np.quantile(recency, quintiles).tolist(),
        "frequency": np.quantile(frequency, quintiles).tolist(),
        "monetary": np.quantile(monetary, quintiles).tolist(),
    }


def _refuse(reason: str) -> None:
    raise NotEnoughData(f"not enough data to train: {reason}")


def _clusters(scaled: np.ndarray, previous: dict[str, Any] | None, seed: int) -> dict[str, Any]:
    """k-means for k in 3..6, k chosen by the silhouette; ids carried over from the previous model by
    matching centroids (Hungarian assignment on distance), so a cluster keeps meaning the same people."""
    rng = np.random.default_rng(seed)
    sample = scaled[rng.choice(len(scaled), size=min(len(scaled), 3000), replace=False)]
    best: tuple[float, KMeans] | None = None
    for k in range(3, 7):
        fitted = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(scaled)
        score = float(silhouette_score(sample, fitted.predict(sample)))
        if best is None or score > best[0] + 1e-9:
            best = (score, fitted)
    assert best is not None
    silhouette, fitted = best
    centroids = fitted.cluster_centers_
    ids = list(range(len(centroids)))
    if previous:
        old = np.array(previous["centroids"])
        cost = ((centroids[:, None, :] - old[None, :, :]) ** 2).sum(axis=2)
        rows, cols = linear_sum_assignment(cost)
        taken = {int(r): int(previous["ids"][c]) for r, c in zip(rows, cols, strict=True)}
        fresh = iter(range(max(previous["ids"]) + 1, 10_000))
        ids = [taken.get(i, next(fresh)) for i in range(len(centroids))]
    descriptions = []
    for centroid in centroids:
        words = []
        for name, (high, low) in CLUSTER_WORDS.items():
            z = centroid[features.INPUTS.index(name)]
            if abs(z) >= 0.5:
                words.append((abs(z), high if z > 0 else low))
        words.sort(reverse=True)
        descriptions.append(", ".join(word for _, word in words[:3]) or "average")
    counts = np.bincount(fitted.labels_, minlength=len(centroids))
    return {
        "centroids": centroids.tolist(),
        "ids": ids,
        "descriptions": dict(zip(map(str, ids), descriptions, strict=True)),
        "sizes": dict(zip(map(str, ids), counts.tolist(), strict=True)),
        "silhouette": round(silhouette, 3),
    }


def train(
    at_cut: list[dict[str, Any]],
    now_rows: list[dict[str, Any]],
    horizon_days: int,
    previous: dict[str, Any] | None = None,
    seed: int = 0,
) -> Trained:
    """`at_cut`: each customer's raw features as of T − H with `orders_after` (orders in (T − H, T]);
    `now_rows`: everyone's raw features as of T, to fit what needs no label and to describe the base."""
    values = _values(at_cut)
    buyers = sum(1 for v in values if v["ever_ordered"])
    if buyers < MIN_BUYERS:
        _refuse(f"{buyers} customers had ordered {horizon_days} days ago; at least {MIN_BUYERS} are needed")
    counts = np.array([float(r["orders_after"]) for r in at_cut])
    churned = (counts == 0).astype(float)
    for label, n in (("churned", int(churned.sum())), ("ordered again", int((1 - churned).sum()))):
        if n < MIN_EACH_LABEL:
            _refuse(
                f"only {n} customers {label} in the last {horizon_days} days;"
                f" at least {MIN_EACH_LABEL} are needed"
            )
    matrix = np.array([features.transformed(v) for v in values])
    train_i, test_i = train_test_split(
        np.arange(len(values)), test_size=0.3, random_state=seed, stratify=churned
    )
    scaler = StandardScaler().fit(matrix[train_i])
    scaled = scaler.transform(matrix)
    recency = np.array([v["recency"] for v in values])
    heuristic = _recency_rates(recency[train_i], churned[train_i])
    heuristic_scores = np.array(heuristic["rates"])[
        np.searchsorted(heuristic["edges"], recency[test_i], side="right")
    ]
    x, t_x, big_t = _bgnbd_arrays(values)
    ever = np.array([v["ever_ordered"] for v in values]) > 0
    buyers_train = train_i[ever[train_i]]  # BG/NBD describes customers from their first purchase
    bg = bgnbd.fit(x[buyers_train], t_x[buyers_train], big_t[buyers_train])
    bg_scores = bg.p_no_purchase(x[test_i], t_x[test_i], big_t[test_i], horizon_days)
    bg_counts = bg.expected(x[test_i], t_x[test_i], big_t[test_i], horizon_days)
    logistic = LogisticRegression(max_iter=2000).fit(scaled[train_i], churned[train_i])
    logistic_scores = logistic.predict_proba(scaled[test_i])[:, 1]
    poisson = PoissonRegressor(alpha=1e-4, max_iter=1000).fit(scaled[train_i], counts[train_i])
    poisson_counts = poisson.predict(scaled[test_i])
    truth = churned[test_i]
    compared = {
        name: {
            "auc": round(float(roc_auc_score(truth, scores)), 4),
            "calibration_error": calibration_error(scores, truth),
        }
        for name, scores in (
            ("recency", heuristic_scores),
            ("bgnbd", bg_scores),
            ("supervised", logistic_scores),
        )
    }
    orders_error = {
        "bgnbd": round(float(np.abs(bg_counts - counts[test_i]).mean()), 4),
        "supervised": round(float(np.abs(poisson_counts - counts[test_i]).mean()), 4),
    }
    # The best held-out AUC ships; the supervised model on a tie, for its richer explanations.
    churn_model = max(compared, key=lambda name: (compared[name]["auc"], name == "supervised"))
    orders_model = min(orders_error, key=lambda name: orders_error[name])

    # Refit on every customer: the supervised models on the cut-off's features and labels, BG/NBD (which
    # needs no label) on everyone's history as it stands.
    scaler = StandardScaler().fit(matrix)
    scaled = scaler.transform(matrix)
    logistic = LogisticRegression(max_iter=2000).fit(scaled, churned)
    poisson = PoissonRegressor(alpha=1e-4, max_iter=1000).fit(scaled, counts)
    current = _values(now_rows)
    cx, ct_x, cbig_t = _bgnbd_arrays(current)
    ordered = np.array([v["ever_ordered"] for v in current]) > 0
    bg = bgnbd.fit(cx[ordered], ct_x[ordered], cbig_t[ordered])
    buying = [
        (v, float(r.get("revenue") or 0)) for v, r in zip(current, now_rows, strict=True) if v["ever_ordered"]
    ]
    scaler_params = {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}
    current_scaled = scaler.transform(np.array([features.transformed(v) for v in current]))
    params = {
        "horizon_days": horizon_days,
        "churn": churn_model,
        "orders_model": orders_model,
        "scaler": scaler_params,
        "logistic": {"coef": logistic.coef_[0].tolist(), "intercept": float(logistic.intercept_[0])},
        "poisson": {"coef": poisson.coef_.tolist(), "intercept": float(poisson.intercept_)},
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
        "recency": _recency_rates(recency, churned),
        "medians": {name: float(np.median([v[name] for v in current])) for name in features.INPUTS},
        "average_order": {
            "population": float(np.mean([v["average_order"] for v, _ in buying])) if buying else 0.0,
            "k": 1.0,  # an order's worth of the population mean, so one order does not set a CLV alone
        },
        "rfm": rfm_cuts(
            [v["recency"] for v, _ in buying], [v["orders"] for v, _ in buying], [m for _, m in buying]
        ),
        "clusters": {"scaler": scaler_params, **_clusters(current_scaled, previous, seed)},
    }
    report = {
        "held_out_customers": len(test_i),
        "churn_rate": round(float(churned.mean()), 4),
        "churn": compared,
        "orders_mean_absolute_error": orders_error,
        "shipped": {"churn_risk": churn_model, "expected_orders": orders_model},
        "bgnbd": params["bgnbd"],
    }
    return Trained(params, report)
