"""Training the predictive models on a simulated shop's history, through the API, on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from engine.predictions.repository import PredictionRepository
from tests.predictions.conftest import ADMIN, WRITE, import_shop


async def signals(api: httpx.AsyncClient, person: str, names: str) -> dict[str, Any]:
    answer = await api.get(f"/api/profiles/{person}/signals?names={names}", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["signals"]
    return found


async def test_training_compares_three_models_and_ships_the_best(api_client: httpx.AsyncClient) -> None:
    await import_shop(api_client)
    answer = await api_client.post("/api/models/train", headers=ADMIN)
    assert answer.status_code == 201, answer.text
    model = answer.json()
    churn = model["held_out"]["churn"]
    assert set(churn) == {"recency", "bgnbd", "supervised"}
    best = max(churn.values(), key=lambda figures: figures["auc"])["auc"]
    assert churn[model["shipped"]["churn_risk"]]["auc"] == best
    assert churn["supervised"]["auc"] > 0.65  # the simulator's churn is learnable, not noise
    assert all(0 <= figures["calibration_error"] < 0.2 for figures in churn.values())
    assert model["customers"] == 600
    assert sum(model["score_distribution"]) == 600
    assert 3 <= len(model["clusters"]["descriptions"]) <= 6
    assert model["window_end"] > model["window_start"]
    listed = (await api_client.get("/api/models", headers=ADMIN)).json()
    assert [m["id"] for m in listed] == [model["id"]]

    values = await signals(
        api_client, "sim-000001", "churn_risk,expected_orders,predicted_clv,rfm_segment,cluster"
    )
    assert 0 <= values["churn_risk"] <= 1
    assert values["expected_orders"] >= 0
    assert str(values["cluster"]) in model["clusters"]["descriptions"]


async def test_training_is_refused_with_the_reason_when_data_is_short(api_client: httpx.AsyncClient) -> None:
    refused = await api_client.post("/api/models/train", headers=ADMIN)
    assert refused.status_code == 409
    assert refused.json()["message"] == "not enough data to train: no events are stored"

    recent = {"userId": "new", "event": "order_completed", "properties": {"revenue": 10}}
    await api_client.post("/v1/track", json=recent, headers=WRITE)
    refused = await api_client.post("/api/models/train", headers=ADMIN)
    assert refused.status_code == 409
    assert "the events span 0 days; at least 180 are needed" in refused.json()["message"]

    await import_shop(api_client, customers=60)
    refused = await api_client.post("/api/models/train", headers=ADMIN)
    assert refused.status_code == 409
    assert "customers had ordered 90 days ago; at least 200 are needed" in refused.json()["message"]
    assert (await api_client.get("/api/models", headers=ADMIN)).json() == []


async def test_features_as_of_a_cut_off_ignore_what_came_after(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    for days_ago, number in ((100, 1), (10, 2)):  # one order before the cut-off, one after it
        order = {
            "userId": "leak",
            "event": "order_completed",
            "properties": {"revenue": 50 * number},
            "timestamp": (now - timedelta(days=days_ago)).isoformat(),
            "messageId": f"leak-{number}",
        }
        await api_client.post("/v1/track", json=order, headers=WRITE)
    async with sessionmaker() as session:
        [row] = await PredictionRepository(session).as_of(now - timedelta(days=90), now)
    # The order 10 days ago is after the cut-off: in no feature, only in what came after.
    assert (row["orders"], row["revenue"], row["orders_90d"], row["orders_after"]) == (1, 50, 1, 1)
    assert round(row["days_since_last_order"]) == 10  # as of the cut-off: 100 − 90


async def test_a_new_order_lowers_churn_risk_at_once_with_explanations(api_client: httpx.AsyncClient) -> None:
    shop = await import_shop(api_client)
    assert (await api_client.post("/api/models/train", headers=ADMIN)).status_code == 201
    lapsed = next(t.user_id for t in shop.truth if not t.alive_at_end and t.orders_in_window >= 1)
    before = await signals(api_client, lapsed, "churn_risk")

    answer = await api_client.get(f"/api/profiles/{lapsed}/predictions", headers=ADMIN)
    why = answer.json()["explanations"]["churn_risk"]
    assert why, "a score comes with the features that moved it"
    assert all((item["effect"] > 0) == item["text"].endswith("↑ risk") for item in why)

    order = {"userId": lapsed, "event": "order_completed", "properties": {"revenue": 80}}
    assert (await api_client.post("/v1/track", json=order, headers=WRITE)).status_code == 200
    login = {"userId": lapsed, "event": "logged_in"}
    assert (await api_client.post("/v1/track", json=login, headers=WRITE)).status_code == 200
    after = await signals(api_client, lapsed, "churn_risk")
    assert after["churn_risk"] < before["churn_risk"] - 0.1, (before, after)


async def test_clusters_keep_their_ids_when_retrained_on_the_same_data(
    api_client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    await import_shop(api_client)

    async def assignments() -> dict[str, int]:
        async with db_engine.connect() as connection:
            rows = await connection.exec_driver_sql(
                "SELECT profile_id, (signals->>'cluster')::int FROM predictions"
            )
            return dict(rows.all())  # type: ignore[arg-type]

    first = (await api_client.post("/api/models/train", headers=ADMIN)).json()
    before = await assignments()
    second = (await api_client.post("/api/models/train", headers=ADMIN)).json()
    after = await assignments()
    assert second["id"] != first["id"]
    assert first["clusters"]["descriptions"] == second["clusters"]["descriptions"]
    assert before == after
    assert len(set(before.values())) == len(first["clusters"]["descriptions"])
    assert np.isclose(sum(first["clusters"]["sizes"].values()), 600)
