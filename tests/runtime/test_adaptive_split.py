"""An adaptive split keeps its configured weights until every variant has its minimum, then moves
traffic toward the variant that converts best (Thompson sampling), at its cadence, keeping a floor."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from engine.db.models import Exposure, Journey, Outcome, SplitWeights
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


async def test_adaptive_split_moves_traffic_to_the_better_variant(harness: Harness) -> None:
    await harness.publish_text("adaptive", ADAPTIVE)
    early = await split_decision(harness, "first")
    assert early["weights"] == {"a": 50.0, "b": 50.0}  # nothing learned yet

    # 150 exposures each: b converts 30 %, a 10 %.
    now = await harness.env.get_current_time()
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
            winners = ids[: int(150 * rate)]
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
                    for i in winners
                ],
            )

    still_cached = await split_decision(harness, "second")
    assert still_cached["weights"] == {"a": 50.0, "b": 50.0}  # the cadence (1 h) has not come round

    await harness.skip(timedelta(hours=1, minutes=1))
    learned = await split_decision(harness, "third")
    weights = learned["weights"]
    assert isinstance(weights, dict)
    assert weights["a"] == 5.0  # the floor
    assert weights["b"] == 95.0
    async with harness.sessionmaker() as session:
        stored = await session.get(SplitWeights, (journey_id, 1, "ab"))
    assert stored is not None
    assert stored.weights == weights
