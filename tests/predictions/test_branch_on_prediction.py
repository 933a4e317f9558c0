"""A journey branching on a predictive signal records the score it read and why it is what it is."""

from __future__ import annotations

from typing import Any

from tests.ingestion.conftest import Stack, eventually, stack
from tests.predictions.conftest import ADMIN, WRITE, import_shop

__all__ = ["stack"]
JOURNEY = """
key: churn-check
name: Churn check
entry: {event: churn_check}
start: triage
nodes:
  triage:
    type: branch
    cases:
      - when: {signal: churn_risk, op: gte, value: 0.5}
        next: rescue
    default: done
  rescue: {type: exit}
  done: {type: exit}
"""


async def test_a_branch_on_churn_risk_records_the_score_and_its_explanation(stack: Stack) -> None:
    shop = await import_shop(stack.api)
    assert (await stack.api.post("/api/models/train", headers=ADMIN)).status_code == 201
    published = await stack.api.post(
        "/api/journeys/churn-check/publish",
        content=JOURNEY,
        headers={**ADMIN, "Content-Type": "application/yaml"},
    )
    assert published.status_code == 201, published.text
    lapsed = next(t.user_id for t in shop.truth if not t.alive_at_end and t.orders_in_window >= 1)
    await stack.api.post("/v1/track", json={"userId": lapsed, "event": "churn_check"}, headers=WRITE)

    async def finished() -> dict[str, Any] | None:
        listed = (await stack.api.get("/api/journeys/churn-check/enrollments", headers=ADMIN)).json()
        return listed[0] if listed and listed[0]["status"] == "completed" else None

    enrollment = await eventually(finished)
    # The score now, counting the churn_check event (activity too), as the branch read it.
    expected = (await stack.api.get(f"/api/profiles/{lapsed}/predictions", headers=ADMIN)).json()
    detail = (await stack.api.get(f"/api/enrollments/{enrollment['id']}", headers=ADMIN)).json()
    [triage] = [step for step in detail["steps"] if step["node_id"] == "triage"]
    decision = triage["decision"]
    risk = decision["signals"]["churn_risk"]
    assert abs(risk - expected["signals"]["churn_risk"]) < 0.01  # the score as the API gives it
    assert decision["case"] == (0 if risk >= 0.5 else "default")
    reasons = decision["explanations"]["churn_risk"]
    assert [r["feature"] for r in reasons] == [r["feature"] for r in expected["explanations"]["churn_risk"]]
    assert all(r["text"].endswith("↑ risk" if r["effect"] > 0 else "↓ risk") for r in reasons)
