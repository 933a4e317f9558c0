"""exposures: CUPED's covariates, and their sums in the report totals

Each exposure records the person's own figures for the journey goal in the 30 days before it (how many
goal events, their summed value): `pre_conversions`, `pre_value`. NULL (older exposures, the holdout's)
counts as 0. The totals of 0011 gain what CUPED needs per variant: Σx and Σx² on the exposure side, Σxy on
the outcome side (x·converted for the rate, x·value for the value). An exposure deleted after its
outcomes leaves its Σxy share behind (nothing deletes exposures but tests; erasure only anonymises).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from migrations.totals import SLOTS, add, functions

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPOSURE_COUNTERS = "exposures, pre_conversions, pre_conversions_squares, pre_value, pre_value_squares"
OUTCOME_COUNTERS = "conversions, revenue, revenue_squares, conversions_x_pre, revenue_x_pre"

# 0011's statements with the covariates' sums; `{changes}` is the statement's rows with their sign.
FUNCTIONS = {
    "variant_exposure_totals": (
        "id, journey_id, version, node_id, variant, coalesce(pre_conversions, 0) AS xc,"
        " coalesce(pre_value, 0) AS xv",
        f"""
        INSERT INTO variant_exposure_totals AS t (journey_id, version, node_id, variant, slot,
            {EXPOSURE_COUNTERS})
        SELECT journey_id, version, node_id, variant, id % {SLOTS}, sum(sign), sum(sign * xc),
               sum(sign * xc * xc), sum(sign * xv), sum(sign * xv * xv)
        FROM ({{changes}}) c
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
        {add("journey_id, version, node_id, variant", EXPOSURE_COUNTERS)};
        """,
    ),
    "variant_outcome_totals": (
        "exposure_id, goal, journey_id, version, node_id, variant, value",
        f"""
        PERFORM 1 FROM exposures WHERE id IN (SELECT exposure_id FROM ({{changes}}) c)
        ORDER BY id FOR NO KEY UPDATE;
        WITH per_exposure AS (
            SELECT exposure_id, goal, journey_id, version, node_id, variant,
                   sum(sign) AS rows_changed, sum(sign * value) AS value_changed
            FROM ({{changes}}) c
            WHERE exposure_id IS NOT NULL AND version IS NOT NULL AND node_id IS NOT NULL
              AND variant IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6
        ), states AS (
            SELECT p.*, now_.n AS rows_now, now_.total AS value_now,
                   coalesce(e.pre_conversions, 0) AS xc, coalesce(e.pre_value, 0) AS xv
            FROM per_exposure p LEFT JOIN exposures e ON e.id = p.exposure_id CROSS JOIN LATERAL (
                SELECT count(*) AS n, coalesce(sum(o.value), 0) AS total
                FROM (SELECT * FROM outcomes WHERE exposure_id = p.exposure_id OFFSET 0) o
                WHERE o.goal = p.goal AND o.journey_id = p.journey_id AND o.version = p.version
                  AND o.node_id = p.node_id AND o.variant = p.variant
            ) now_
        )
        INSERT INTO variant_outcome_totals AS t
            (journey_id, version, node_id, variant, goal, slot, {OUTCOME_COUNTERS})
        SELECT journey_id, version, node_id, variant, goal, exposure_id % {SLOTS},
               sum((rows_now > 0)::int - (rows_now - rows_changed > 0)::int),
               sum(value_changed),
               sum(value_now * value_now - (value_now - value_changed) * (value_now - value_changed)),
               sum(xc * ((rows_now > 0)::int - (rows_now - rows_changed > 0)::int)),
               sum(xv * value_changed)
        FROM states GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        {add("journey_id, version, node_id, variant, goal", OUTCOME_COUNTERS)};
        """,
    ),
}


def upgrade() -> None:
    for column in ("pre_conversions", "pre_value"):
        op.add_column("exposures", sa.Column(column, sa.Float(), nullable=True))
    for column in EXPOSURE_COUNTERS.split(", ")[1:]:
        op.add_column(
            "variant_exposure_totals", sa.Column(column, sa.Numeric(), nullable=False, server_default="0")
        )
    for column in OUTCOME_COUNTERS.split(", ")[3:]:
        op.add_column(
            "variant_outcome_totals", sa.Column(column, sa.Numeric(), nullable=False, server_default="0")
        )
    for totals, (columns, statements) in FUNCTIONS.items():
        functions(totals, columns, statements, replace=True)


def _revision_0011() -> ModuleType:
    """0011's module, whose functions the downgrade puts back."""
    spec = importlib.util.spec_from_file_location(
        "report_totals_0011", Path(__file__).with_name("0011_report_totals.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    base = _revision_0011()
    for source in ("exposures", "outcomes"):
        totals, columns, statements = base.TOTALS[source]
        functions(totals, columns, statements, replace=True)
    for column in OUTCOME_COUNTERS.split(", ")[3:]:
        op.drop_column("variant_outcome_totals", column)
    for column in EXPOSURE_COUNTERS.split(", ")[1:]:
        op.drop_column("variant_exposure_totals", column)
    for column in ("pre_conversions", "pre_value"):
        op.drop_column("exposures", column)
