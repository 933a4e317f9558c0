"""RFM scores and segments on a base small enough to work out by hand."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.predictions.scoring import _quintile, rfm_segment
from engine.predictions.training import rfm_cuts

# Ten customers who ordered: days since their last order, orders, revenue.
BASE = [(5, 9, 900), (12, 7, 650), (20, 5, 500), (33, 4, 320), (45, 3, 300),
        (60, 2, 180), (75, 2, 150), (110, 1, 90), (150, 1, 60), (200, 1, 20)]  # fmt: skip


def test_quintile_cut_points_are_the_20_40_60_80th_percentiles() -> None:
    cuts = rfm_cuts([r for r, _, _ in BASE], [f for _, f, _ in BASE], [m for _, _, m in BASE])
    # numpy's linear interpolation, by hand: position 0.2 × 9 = 1.8 → 12 + 0.8 × (20 − 12) = 18.4 …
    assert cuts["recency"] == pytest.approx([18.4, 40.2, 66.0, 118.0])
    assert cuts["frequency"] == pytest.approx([1.0, 2.0, 3.4, 5.4])
    assert cuts["monetary"] == pytest.approx([84.0, 168.0, 308.0, 530.0])


@pytest.mark.parametrize(
    ("recency", "orders", "revenue", "scores", "segment"),
    [
        (5, 9, 900, (5, 5, 5), "champions"),  # recent, frequent, big spender
        (45, 3, 300, (3, 3, 3), "loyal"),
        (12, 1, 20, (5, 1, 1), "new"),  # one recent order
        (60, 2, 180, (3, 2, 3), "potential_loyalists"),
        (200, 7, 650, (1, 5, 5), "cant_lose"),  # was among the best, long gone
        (110, 4, 320, (2, 4, 4), "at_risk"),
        (75, 2, 150, (2, 2, 2), "hibernating"),
        (150, 1, 60, (1, 1, 1), "lost"),
    ],
)
def test_scores_and_segments(
    recency: float, orders: float, revenue: float, scores: tuple[int, int, int], segment: str
) -> None:
    cuts = rfm_cuts([r for r, _, _ in BASE], [f for _, f, _ in BASE], [m for _, _, m in BASE])
    found = (
        _quintile(cuts["recency"], recency, higher_is_better=False),
        _quintile(cuts["frequency"], orders, higher_is_better=True),
        _quintile(cuts["monetary"], revenue, higher_is_better=True),
    )
    assert found == scores
    assert rfm_segment(found[0], found[1]) == segment


def test_the_order_event_and_its_value_are_settings() -> None:
    """Read once per process when the statements are built: checked in a process of its own."""
    script = (
        "from engine.predictions.features import RAW_SQL;print(RAW_SQL['orders']); print(RAW_SQL['revenue'])"
    )
    env = {
        **os.environ,
        "JOURNEYS_ORDER_EVENT": "Purchase Made",
        "JOURNEYS_ORDER_VALUE_PROPERTIES": "amount,it's",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "e.name_key = 'purchase_made'" in out
    assert "e.properties->>'amount'" in out
    assert "e.properties->>'it''s'" in out  # quoted, never spliced
    assert "order_completed" not in out
