"""An adaptive split keeps its configured weights until every variant has its minimum, then moves
traffic toward the variant that converts best (Thompson sampling), at its cadence, keeping a floor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from engine.db.experiment_tables import Exposure, Outcome, SplitWeights
from engine.db.models import Journey
from engine.splits.adaptive import current_weights
from tests.runtime.harness import Harness

ADAPTIVE = """
key: adaptive
name: Adaptive
entry: {event: start, reentry: {mode: always}}
goal: {event: bought, within: 3d}
start: ab
nodes:
  ab:
    type: split
    adaptive: {min_weight: 5, update_every: 1h, min_exposures: 100}
    variants: [{name: a, weight: 50, next: done}, {name: b, weight: 50, next: done}]
  done: {type: exit}
"""


async def split_decision(harness: Harness, profile: str) -> dict[str, object]:
    started = await harness.enroll("adaptive", harness.event(profile, "start"))
    await harness.result(started.workflow_id)
    detail = await harness.detail(started.enrollment_id)
    decision = next(s.decision for s in detail.steps if s.node_id == "ab")
    assert decision is not None
    return decision


async def seed(harness: Harness, now: datetime) -> int:
    """150 exposures per variant: b converts 30 %, a 10 %."""
    async with harness.sessionmaker() as session, session.begin():
        journey_id = (await session.execute(select(Journey.id).where(Journey.key == "adaptive"))).scalar_one()
        for variant, rate in (("a", 0.10), ("b", 0.30)):
            rows = [
                {
                    "enrollment_id": f"seed-{variant}-{i}",
                    "journey_id": journey_id,
                    "version": 1,
                    "node_id": "ab",
                    "variant": variant,
                    "profile_id": f"seed-{variant}-{i}",
                    "exposed_at": now,
                }
                for i in range(150)
            ]
            ids = (await session.execute(insert(Exposure).returning(Exposure.id), rows)).scalars().all()
            await session.execute(
                insert(Outcome),
                [
                    {
                        "journey_id": journey_id,
                        "exposure_id": i,
                        "goal": "bought",
                        "value": 0,
                        "source": "goal",
                        "occurred_at": now,
                        "version": 1,
                        "node_id": "ab",
                        "variant": variant,
                        "exposed_at": now,
                    }
                    for i in ids[: int(150 * rate)]
                ],
            )
    return int(journey_id)


async def weights_at(harness: Harness, journey_id: int, now: datetime) -> dict[str, float]:
    async with harness.sessionmaker() as session, session.begin():
        return await current_weights(
            session,
            journey_id=journey_id,
            version=1,
            node_id="ab",
            goal="bought",
            configured={"a": 50.0, "b": 50.0},
            floor_percent=5,
            cadence=timedelta(hours=1),
            min_exposures=100,
            now=now,
        )


async def test_weights_wait_for_data_and_for_the_cadence(harness: Harness) -> None:
    await harness.publish_text("adaptive", ADAPTIVE)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    async with harness.sessionmaker() as session:
        journey_id = (await session.execute(select(Journey.id).where(Journey.key == "adaptive"))).scalar_one()
    assert await weights_at(harness, journey_id, start) == {"a": 50.0, "b": 50.0}  # no data yet
    await seed(harness, start)
    assert await weights_at(harness, journey_id, start + timedelta(minutes=30)) == {"a": 50.0, "b": 50.0}
    assert await weights_at(harness, journey_id, start + timedelta(minutes=61)) == {"a": 5.0, "b": 95.0}


async def test_enrollments_reaching_an_adaptive_split_use_the_learned_weights(harness: Harness) -> None:
    await harness.publish_text("adaptive", ADAPTIVE)
    early = await split_decision(harness, "first")
    assert early["weights"] == {"a": 50.0, "b": 50.0}  # nothing learned yet
    journey_id = await seed(harness, await harness.env.get_current_time())
    await harness.skip(timedelta(hours=1, minutes=1))
    learned = await split_decision(harness, "third")
    # The floor, and the rest to the winner. Thompson draws are seeded by the minute, and the
    # time-skipping server's clock depends on what ran before: a wins a draw in ~8 % of minutes
    # (P(a > b) ≈ 1e-5, 10,000 draws), which moves 0.009 points.
    weights = learned["weights"]
    assert isinstance(weights, dict)
    assert weights == {"a": pytest.approx(5.0, abs=0.05), "b": pytest.approx(95.0, abs=0.05)}
    async with harness.sessionmaker() as session:
        stored = await session.get(SplitWeights, (journey_id, 1, "ab"))
    assert stored is not None
    assert stored.weights == learned["weights"]
