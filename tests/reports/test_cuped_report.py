"""CUPED in the report: the kept totals carry each exposure's pre-exposure figures, and the adjusted
lift, interval and p-value equal the ones computed independently from the raw per-person values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.outcomes.service import OutcomeService
from engine.stats.experiments import Moments, Paired, compare, cuped
from tests.reports.test_report import ADMIN, publish
from tests.support.exposures import NOW


async def test_the_report_adjusts_by_pre_exposure_figures(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    rng = np.random.default_rng(9)
    raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    async with sessionmaker() as session, session.begin():
        journey_id = (await session.execute(text("SELECT id FROM journeys"))).scalar_one()
        for variant, lift in (("plain_reminder", 0.0), ("discount", 0.03)):
            pre = rng.poisson(1.0, 1500).astype(float)  # orders in the 30 days before exposure
            converted = (rng.random(1500) < 0.02 + 0.2 * np.minimum(pre, 3) + lift).astype(float)
            raw[variant] = (pre, converted)
            for i, (x, y) in enumerate(zip(pre, converted, strict=True)):
                exposure = await session.execute(
                    text(
                        "INSERT INTO exposures (enrollment_id, journey_id, version, node_id, variant,"
                        " profile_id, exposed_at, pre_conversions, pre_value) VALUES (:e, :j, 1, 'offer',"
                        " :v, :e, :at, CAST(:x AS float8), CAST(:x AS float8) * 40) RETURNING id"
                    ),
                    {"e": f"{variant}-{i}", "j": journey_id, "v": variant, "at": NOW, "x": float(x)},
                )
                if y:
                    await session.execute(
                        text(
                            "INSERT INTO outcomes (journey_id, exposure_id, goal, value, source, occurred_at,"
                            " version, node_id, variant, exposed_at) VALUES (:j, :id, 'order_completed', 0,"
                            " 'goal', :at, 1, 'offer', :v, :at)"
                        ),
                        {"j": journey_id, "id": exposure.scalar_one(), "v": variant, "at": NOW},
                    )
    url = "/api/journeys/abandoned-cart/report"
    report = (await api_client.get(url, headers=ADMIN)).json()
    discount = next(v for v in report["splits"][0]["variants"] if v["variant"] == "discount")

    def paired(variant: str) -> Paired:
        x, y = raw[variant]
        return Paired(
            Moments(len(y), float(y.sum()), float(y.sum())),
            float(x.sum()),
            float((x * x).sum()),
            float((x * y).sum()),
        )

    adjusted = cuped({v: paired(v) for v in raw})
    assert adjusted is not None
    expected = compare(adjusted["discount"], adjusted["plain_reminder"])
    assert discount["cuped_lift"] == pytest.approx(expected.lift)
    assert discount["cuped_p_value"] == pytest.approx(expected.p_value)
    assert expected.lift_interval is not None
    assert discount["cuped_lift_interval"]["low"] == pytest.approx(expected.lift_interval.low)
    assert discount["cuped_variance_reduction"] > 0.1  # the pre-exposure orders explain some variance
    width = discount["lift_interval"]["high"] - discount["lift_interval"]["low"]
    adjusted_width = discount["cuped_lift_interval"]["high"] - discount["cuped_lift_interval"]["low"]
    assert adjusted_width < width
    off = (await api_client.get(f"{url}?cuped=false", headers=ADMIN)).json()
    assert next(v for v in off["splits"][0]["variants"] if v["variant"] == "discount")["cuped_lift"] is None


async def test_the_covariate_is_the_goal_in_the_30_days_before_exposure(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    exposed_at = datetime(2026, 11, 20, tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        await session.execute(text("INSERT INTO profiles (id, traits) VALUES ('buyer', '{}')"))
        for n, (name, days_before, revenue) in enumerate(
            [
                ("Order Completed", 3, 10),  # Segment's spelling of the goal event
                ("order_completed", 10, "20"),
                ("order_completed", 20, "abc"),  # counts, adds no value
                ("order_completed", 40, 100),  # too early
                ("order_completed", -1, 100),  # after exposure
                ("cart_updated", 2, 500),  # another event
            ]
        ):
            await session.execute(
                text(
                    "INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
                    " VALUES (:m, 'buyer', 'track', :name, CAST(:p AS jsonb), '{}', :at)"
                ),
                {
                    "m": f"m{n}",
                    "name": name,
                    "p": f'{{"revenue": {revenue!r}}}'.replace("'", '"'),
                    "at": exposed_at - timedelta(days=days_before),
                },
            )
        figures = await OutcomeService(session).before_exposure(
            "buyer", "order_completed", "properties.revenue", exposed_at
        )
    assert figures == (3.0, 30.0)
