"""Adaptive splits: the weights enrollments use when they reach the split, recomputed from the
variants' results at the split's cadence (no reweighting before every variant has its minimum)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from engine.reports.repository import ReportRepository
from engine.splits.repository import SplitWeightsRepository
from engine.stats.thompson import thompson_weights


async def current_weights(
    session: AsyncSession,
    *,
    journey_id: int,
    version: int,
    node_id: str,
    goal: str,
    configured: dict[str, float],
    floor_percent: float,
    cadence: timedelta,
    min_exposures: int,
    now: datetime,
) -> dict[str, float]:
    repo = SplitWeightsRepository(session)
    stored = await repo.get(journey_id, version, node_id)
    if stored is not None and stored.updated_at + cadence > now:
        return {name: float(weight) for name, weight in stored.weights.items()}
    totals = await ReportRepository(session).totals(
        journey_id, goal, version=version, node=node_id, since=None, until=None
    )
    observed = {t.variant: (t.exposures, t.conversions) for t in totals if t.variant in configured}
    if len(observed) < len(configured) or min(n for n, _ in observed.values()) < min_exposures:
        weights = dict(configured)  # too early to learn anything: the configured weights
    else:
        # Seeded by the cadence slot: every worker computing this slot gets the same weights.
        weights = thompson_weights(observed, floor_percent=floor_percent, seed=int(now.timestamp() // 60))
    await repo.put(journey_id, version, node_id, weights, now)
    return weights
