"""Exposures and goal outcomes written straight into the tables, for reports over known data."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.db.experiment_tables import Exposure, Outcome
from engine.db.models import Journey

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession],
    node: str,
    arms: dict[str, tuple[int, float, float]],
    seed: int = 1,
    journey: str = "abandoned-cart",
) -> dict[str, list[float]]:
    """arms: variant → (exposures, conversion rate, mean revenue of a conversion). Returns each variant's
    per-exposure revenue, for computing the expected statistics independently."""
    rng = random.Random(seed)
    revenue: dict[str, list[float]] = {}
    async with sessionmaker() as session, session.begin():
        journey_id = (await session.execute(select(Journey.id).where(Journey.key == journey))).scalar_one()
        exposures, outcomes = [], []
        for variant, (n, rate, mean) in arms.items():
            revenue[variant] = []
            for i in range(n):
                exposures.append(
                    {
                        "enrollment_id": f"{node}-{variant}-{i}",
                        "journey_id": journey_id,
                        "version": 1,
                        "node_id": node,
                        "variant": variant,
                        "profile_id": f"p-{variant}-{i}",
                        "exposed_at": NOW,
                    }
                )
                value = round(rng.expovariate(1 / mean), 2) if rng.random() < rate else None
                revenue[variant].append(value or 0.0)
                outcomes.append(value)
        ids = (await session.execute(insert(Exposure).returning(Exposure.id), exposures)).scalars().all()
        rows = [
            {
                "journey_id": journey_id,
                "exposure_id": exposure_id,
                "goal": "order_completed",
                "value": value,
                "source": "goal",
                "occurred_at": NOW,
                # What crediting copies from the exposure:
                "version": 1,
                "node_id": node,
                "variant": exposure["variant"],
                "exposed_at": NOW,
            }
            for exposure_id, exposure, value in zip(ids, exposures, outcomes, strict=True)
            if value is not None
        ]
        if rows:
            await session.execute(insert(Outcome), rows)
    return revenue
