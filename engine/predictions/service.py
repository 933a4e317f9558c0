"""Training predictive models on the engine's own events, and listing them (docs/predictions.md)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import ModelVersion
from engine.predictions.repository import PredictionRepository
from engine.predictions.scoring import predict
from engine.predictions.training import NotEnoughData, train
from engine.settings import Settings


class ModelOut(BaseModel):
    id: int
    trained_at: datetime
    horizon_days: int
    window_start: datetime = Field(description="the first event trained on")
    window_end: datetime = Field(description="the moment of training: features as of window_end − horizon")
    customers: int
    customers_with_orders: int
    events: int
    seconds: float = Field(description="how long training took")
    shipped: dict[str, str] = Field(description="which model serves each prediction")
    held_out: dict[str, Any] = Field(description="the models compared on held-out customers")
    clusters: dict[str, Any] = Field(description="each cluster's description and size")
    score_distribution: list[int] = Field(description="customers per tenth of churn risk, 0–0.1 first")


def _out(version: ModelVersion) -> ModelOut:
    report, clusters = version.report, version.params["clusters"]
    return ModelOut(
        id=version.id,
        trained_at=version.trained_at,
        horizon_days=version.horizon_days,
        window_start=version.window_start,
        window_end=version.window_end,
        customers=version.customers,
        customers_with_orders=version.customers_with_orders,
        events=version.events,
        seconds=version.seconds,
        shipped=report["shipped"],
        held_out={
            key: report[key]
            for key in ("held_out_customers", "churn_rate", "churn", "orders_mean_absolute_error")
        },
        clusters={
            "descriptions": clusters["descriptions"],
            "sizes": clusters["sizes"],
            "silhouette": clusters["silhouette"],
        },
        score_distribution=report.get("score_distribution", []),
    )


def _score(model: dict[str, Any], rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    scored = []
    for raw in rows:
        signals, explanations = predict(model, raw, now)
        scored.append({"profile_id": raw["profile_id"], "signals": signals, "explanations": explanations})
    return scored


class ModelService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.repo = PredictionRepository(session)
        self.settings = settings

    async def train(self, unless_trained_since: datetime | None = None) -> ModelOut:
        """Train on every stored event as of now; refuse, saying why, when there is too little. With
        `unless_trained_since`, a version trained since then is the answer (a scheduled run retried after
        its commit trains once)."""
        if unless_trained_since is not None:
            latest = await self.repo.latest()
            if latest is not None and latest.trained_at >= unless_trained_since:
                return _out(latest)
        started = time.perf_counter()
        horizon = self.settings.horizon_days
        first, _, events, _ = await self.repo.span()
        now = datetime.now(UTC)
        if first is None:
            raise NotEnoughData("not enough data to train: no events are stored")
        if now - first < timedelta(days=2 * horizon):
            raise NotEnoughData(
                f"not enough data to train: the events span {(now - first).days} days; at least"
                f" {2 * horizon} are needed ({horizon} to learn from, {horizon} to check against:"
                " JOURNEYS_PREDICTION_HORIZON)"
            )
        cut = now - timedelta(days=horizon)
        at_cut = await self.repo.as_of(cut, now)
        current = await self.repo.as_of(now, now)
        latest = await self.repo.latest()
        previous = latest.params["clusters"] if latest else None
        # The fitting is CPU-bound: in a thread, so the API keeps answering meanwhile.
        trained = await asyncio.to_thread(train, at_cut, current, horizon, previous)
        scored = await asyncio.to_thread(_score, trained.params, current, now)
        version = await self.repo.add_version(
            trained_at=now,
            horizon_days=horizon,
            window_start=first,
            window_end=now,
            customers=len(current),
            customers_with_orders=sum(1 for row in current if row["orders"]),
            events=events,
            seconds=0.0,
            params=trained.params,
            report=trained.report,
        )
        await self.repo.store(version.id, now, scored)
        version.report = {**trained.report, "score_distribution": await self.repo.distribution(version.id)}
        version.seconds = round(time.perf_counter() - started, 2)
        return _out(version)

    async def list(self) -> list[ModelOut]:
        return [_out(version) for version in await self.repo.versions()]
