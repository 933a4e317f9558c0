"""The variant report over real PostgreSQL, checked against values computed independently."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import httpx
import pytest
from scipy import stats
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from engine.db.experiment_tables import Exposure, Outcome
from engine.db.models import Event, Journey
from engine.journeys.bundled import EXAMPLES
from engine.outbox.router import EventRouter, RoutingCache
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings
from tests.support.exposures import NOW, seed

ADMIN = {"Authorization": "Bearer test-admin-token"}
YAML = {**ADMIN, "Content-Type": "application/yaml"}


async def publish(api: httpx.AsyncClient, key: str = "abandoned-cart") -> None:
    response = await api.post(
        f"/api/journeys/{key}/publish", content=(EXAMPLES / f"{key}.yaml").read_text(), headers=YAML
    )
    assert response.status_code == 201


def variant(report: dict[str, Any], node: str, name: str) -> dict[str, Any]:
    split = next(s for s in report["splits"] + report["holdout"] if s["node"] == node)
    return next(v for v in split["variants"] if v["variant"] == name)


async def test_report_statistics_match_independent_computation(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    revenue = await seed(
        sessionmaker, "offer", {"plain_reminder": (1000, 0.10, 80.0), "discount": (1000, 0.14, 70.0)}
    )
    report = (await api_client.get("/api/journeys/abandoned-cart/report", headers=ADMIN)).json()
    assert report["goals"] == ["order_completed"]
    control, treated = variant(report, "offer", "plain_reminder"), variant(report, "offer", "discount")
    conv_c = [1.0 if r > 0 else 0.0 for r in revenue["plain_reminder"]]
    conv_t = [1.0 if r > 0 else 0.0 for r in revenue["discount"]]
    assert (treated["exposures"], treated["conversions"]) == (1000, int(sum(conv_t)))
    assert treated["conversion_rate"] == pytest.approx(sum(conv_t) / 1000)
    assert treated["revenue_per_exposure"] == pytest.approx(sum(revenue["discount"]) / 1000, rel=1e-6)
    # The default scale, relative: one delta-method estimate and standard error, Student's t at Welch's df.
    assert report["scale"] == "relative"
    p_t, p_c = sum(conv_t) / 1000, sum(conv_c) / 1000
    a, b = stats.tvar(conv_t) / 1000, stats.tvar(conv_c) / 1000
    lift, se = p_t / p_c - 1, math.sqrt(a / p_c**2 + p_t**2 * b / p_c**4)
    df = (a + b) ** 2 / (a * a / 999 + b * b / 999)
    assert treated["lift"] == pytest.approx(lift)
    assert treated["lift_interval"]["low"] == pytest.approx(lift - stats.t.ppf(0.975, df) * se)
    assert treated["p_value"] == pytest.approx(2 * stats.t.sf(abs(lift) / se, df), rel=1e-6)
    assert treated["chance_to_beat_control"] == pytest.approx(stats.norm.cdf(lift / se))
    # On request, the absolute scale: Welch's t-test of the raw per-person values.
    absolute = (
        await api_client.get("/api/journeys/abandoned-cart/report?scale=absolute", headers=ADMIN)
    ).json()
    plain = variant(absolute, "offer", "discount")
    assert absolute["scale"] == "absolute"
    assert plain["lift"] == pytest.approx(p_t - p_c)
    assert plain["p_value"] == pytest.approx(
        stats.ttest_ind(conv_t, conv_c, equal_var=False).pvalue, rel=1e-6
    )
    assert plain["revenue_p_value"] == pytest.approx(
        stats.ttest_ind(revenue["discount"], revenue["plain_reminder"], equal_var=False).pvalue, rel=1e-6
    )
    low, high = stats.ttest_ind(conv_t, conv_c, equal_var=False).confidence_interval(0.95)
    assert (plain["lift_interval"]["low"], plain["lift_interval"]["high"]) == pytest.approx((low, high))
    assert treated["p_value_holm"] == pytest.approx(treated["p_value"])  # one comparison: nothing to adjust
    assert control["is_control"]
    assert control["lift"] is None
    split = report["splits"][0]
    assert split["srm_warning"] is False
    assert split["srm_p_value"] == pytest.approx(1.0)
    assert split["verdict"].startswith("discount beats plain_reminder on order_completed")


async def test_the_report_as_csv_carries_the_same_figures(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    await seed(sessionmaker, "offer", {"plain_reminder": (300, 0.10, 80.0), "discount": (300, 0.15, 70.0)})
    url = "/api/journeys/abandoned-cart/report"
    report = (await api_client.get(url, headers=ADMIN)).json()
    for answer in (
        await api_client.get(f"{url}?format=csv", headers=ADMIN),
        await api_client.get(url, headers={**ADMIN, "Accept": "text/csv"}),
    ):
        assert answer.headers["content-type"].startswith("text/csv")
        rows = {(r["node"], r["variant"]): r for r in csv.DictReader(io.StringIO(answer.text))}
        assert set(rows) == {("offer", "plain_reminder"), ("offer", "discount")}
        for (node, name), row in rows.items():
            expected = variant(report, node, name)
            assert int(row["exposures"]) == expected["exposures"]
            assert int(row["conversions"]) == expected["conversions"]
            assert row["scale"] == "relative"
            if expected["p_value"] is None:
                assert row["p_value"] == ""
            else:
                assert float(row["p_value"]) == pytest.approx(expected["p_value"])
                assert float(row["lift_low"]) == pytest.approx(expected["lift_interval"]["low"])


async def test_a_60_40_split_configured_50_50_raises_the_srm_warning(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    await seed(sessionmaker, "offer", {"plain_reminder": (600, 0.1, 50.0), "discount": (400, 0.1, 50.0)})
    [split] = (await api_client.get("/api/journeys/abandoned-cart/report", headers=ADMIN)).json()["splits"]
    assert split["srm_p_value"] == pytest.approx(stats.chisquare([600, 400]).pvalue)
    assert split["srm_warning"] is True
    assert split["verdict"].startswith("Sample ratio mismatch")


async def test_holdout_comparison_and_offline_outcomes(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    await seed(sessionmaker, "__holdout__", {"treatment": (950, 0.12, 60.0), "holdout": (50, 0.08, 60.0)})
    report = (await api_client.get("/api/journeys/abandoned-cart/report", headers=ADMIN)).json()
    [holdout] = report["holdout"]
    assert holdout["control"] == "holdout"
    assert [v["weight"] for v in holdout["variants"]] == [5.0, 95.0]
    assert variant(report, "__holdout__", "treatment")["lift"] is not None

    async with sessionmaker() as session, session.begin():
        await ProfileRepository(session).upsert("p-treatment-3")
    deal = {
        "journey": "abandoned-cart",
        "profile": "p-treatment-3",
        "goal": "deal_won",  # one of abandoned-cart's offline_goals
        "value": 1200,
        "external_id": "crm-deal-77",
        "occurred_at": "2026-11-02T00:00:00Z",  # inside the goal's 3-day window from the exposure
    }
    assert (await api_client.post("/api/outcomes", json=deal, headers=ADMIN)).json() == {"credited": 1}
    assert (await api_client.post("/api/outcomes", json=deal, headers=ADMIN)).json() == {"credited": 0}
    won = (await api_client.get("/api/journeys/abandoned-cart/report?goal=deal_won", headers=ADMIN)).json()
    assert variant(won, "__holdout__", "treatment")["revenue"] == 1200
    missing = await api_client.post("/api/outcomes", json={**deal, "profile": "nobody"}, headers=ADMIN)
    assert missing.status_code == 404
    late = {**deal, "external_id": "crm-deal-78", "occurred_at": "2026-11-09T00:00:00Z"}
    assert (await api_client.post("/api/outcomes", json=late, headers=ADMIN)).json() == {"credited": 0}
    undeclared = await api_client.post("/api/outcomes", json={**deal, "goal": "deal_lost"}, headers=ADMIN)
    assert undeclared.status_code == 422
    assert undeclared.json()["problems"][0]["path"] == "goal"


async def test_a_goal_after_the_journey_ended_is_credited_inside_the_window(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], temporal_client: Client
) -> None:
    await publish(api_client)
    await seed(sessionmaker, "offer", {"discount": (1, 0.0, 1.0)})
    async with sessionmaker() as session, session.begin():
        await ProfileRepository(session).upsert("p-discount-0")
        # The exposure's enrollment, ended, for cart c-1: abandoned-cart's goal is an order for that cart.
        await session.execute(
            text(
                "INSERT INTO enrollments (id, workflow_id, journey_id, version, profile_id, correlation,"
                " status, holdout, started_at, ended_at) SELECT 'offer-discount-0', 'w', id, 1,"
                " 'p-discount-0', 'c-1', 'completed', false, :now, :now FROM journeys"
            ),
            {"now": NOW},
        )
        for message_id, days, cart in (
            ("in-window", 2, "c-1"),
            ("again-in-window", 3, "c-1"),  # a repeat order: counted too
            ("other-cart", 2, "c-2"),
            ("too-late", 5, "c-1"),
        ):
            event = Event(
                message_id=message_id,
                profile_id="p-discount-0",
                type="track",
                name="order_completed",
                properties={"revenue": 45, "cart_id": cart},
                context={},
                timestamp=NOW.replace(day=1 + days),
            )
            session.add(event)
            await session.flush()
            router = EventRouter(session, temporal_client, Settings(), RoutingCache())
            await router.route(event)
            await router.route(event)  # routed again (a dispatcher crash before its mark): no second credit
    async with sessionmaker() as session:
        rows = (await session.execute(select(Outcome.value, Outcome.occurred_at).order_by(Outcome.id))).all()
    # Every order for the exposure's own cart inside the 3-day window from exposure, once each.
    assert [(float(value), at.day) for value, at in rows] == [(45.0, 3), (45.0, 4)]
    report = (await api_client.get("/api/journeys/abandoned-cart/report", headers=ADMIN)).json()
    discount = variant(report, "offer", "discount")
    assert (discount["conversions"], discount["revenue"]) == (1, 90.0)  # converted once, both orders' value


async def test_breakdown_by_a_signal_recorded_at_exposure(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Engaged customers respond to the discount; the others do not: the overall lift hides it."""
    await publish(api_client)
    plan = [  # (engagement at exposure, variant, exposures, conversions)
        (80, "discount", 100, 40),
        (80, "plain_reminder", 100, 20),
        (10, "discount", 100, 10),
        (10, "plain_reminder", 100, 10),
        (None, "discount", 20, 2),
        (None, "plain_reminder", 20, 2),
    ]
    async with sessionmaker() as session, session.begin():
        journey_id = (await session.execute(select(Journey.id))).scalar_one()
        for engagement, name, n, conversions in plan:
            attributes = (
                None if engagement is None else {"signals": {"engagement_score": engagement}, "traits": {}}
            )
            rows = [
                {
                    "enrollment_id": f"{engagement}-{name}-{i}",
                    "journey_id": journey_id,
                    "version": 1,
                    "node_id": "offer",
                    "variant": name,
                    "profile_id": f"{engagement}-{name}-{i}",
                    "exposed_at": NOW,
                    "attributes": attributes,
                }
                for i in range(n)
            ]
            ids = (await session.execute(insert(Exposure).returning(Exposure.id), rows)).scalars().all()
            await session.execute(
                insert(Outcome),
                [
                    {
                        "journey_id": journey_id,
                        "exposure_id": i,
                        "goal": "order_completed",
                        "value": 10,
                        "source": "goal",
                        "occurred_at": NOW,
                        "version": 1,
                        "node_id": "offer",
                        "variant": name,
                        "exposed_at": NOW,
                    }
                    for i in ids[:conversions]
                ],
            )
    response = await api_client.get(
        "/api/journeys/abandoned-cart/report/breakdown?split=offer&by=signals.engagement_score&buckets=60,30",
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    buckets = {b["bucket"]: b["result"] for b in response.json()["buckets"]}
    assert set(buckets) == {"< 30", "≥ 60", "unknown"}
    engaged = {v["variant"]: v for v in buckets["≥ 60"]["variants"]}
    assert (engaged["discount"]["conversion_rate"], engaged["plain_reminder"]["conversion_rate"]) == (
        0.4,
        0.2,
    )
    assert engaged["discount"]["lift"] == pytest.approx(1.0)
    assert engaged["discount"]["p_value"] < 0.05
    quiet = {v["variant"]: v for v in buckets["< 30"]["variants"]}
    assert quiet["discount"]["lift"] == pytest.approx(0.0)

    bad = await api_client.get(
        "/api/journeys/abandoned-cart/report/breakdown?split=offer&by=mood", headers=ADMIN
    )
    assert bad.status_code == 422
    assert bad.json()["problems"] == [{"path": "by", "message": "traits.x or signals.x"}]
    not_split = await api_client.get(
        "/api/journeys/abandoned-cart/report/breakdown?split=reminder&by=traits.plan", headers=ADMIN
    )
    assert not_split.status_code == 422


async def test_results_over_time_are_cumulative_and_end_at_the_report(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await publish(api_client)
    await seed(sessionmaker, "offer", {"plain_reminder": (600, 0.10, 80.0), "discount": (600, 0.14, 70.0)})
    async with sessionmaker() as session, session.begin():  # spread the exposures over three days
        await session.execute(
            text("UPDATE exposures SET exposed_at = CAST(:now AS timestamptz) + (id % 3) * interval '1 day'"),
            {"now": NOW},
        )
        await session.execute(
            text(
                "UPDATE outcomes o SET exposed_at = x.exposed_at FROM exposures x WHERE x.id = o.exposure_id"
            )
        )
        first_day: dict[str, int] = dict(
            (
                await session.execute(
                    text("SELECT variant, count(*) FROM exposures WHERE id % 3 = 0 GROUP BY 1")
                )
            ).all()
        )
    url = "/api/journeys/abandoned-cart/report"
    series = (await api_client.get(f"{url}/timeseries?split=offer&interval=day", headers=ADMIN)).json()
    assert [p["until"][:10] for p in series["points"]] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    first = {v["variant"]: v for v in series["points"][0]["result"]["variants"]}
    assert {name: v["exposures"] for name, v in first.items()} == first_day
    exposures = [sum(v["exposures"] for v in p["result"]["variants"]) for p in series["points"]]
    assert exposures == sorted(exposures)  # cumulative
    assert exposures[-1] == 1200
    last = {v["variant"]: v for v in series["points"][-1]["result"]["variants"]}
    report = (await api_client.get(url, headers=ADMIN)).json()
    for name in ("plain_reminder", "discount"):
        whole = variant(report, "offer", name)
        for figure in ("exposures", "conversions", "revenue", "lift", "p_value"):
            assert last[name][figure] == pytest.approx(whole[figure]), figure
    bad = await api_client.get(f"{url}/timeseries?split=check_value", headers=ADMIN)
    assert bad.status_code == 422
