"""report totals: exposures and outcome sums per variant, entries and positions per node, kept by triggers

The report counted exposures, summed outcomes per exposure and counted each node's enrollments on every
request: at a million exposures and enrollments, 0.3-0.5 s for the variants and 7-13 s for the funnel
on two cores, growing with them. These tables hold the same figures per key, changed by statement-level
triggers in the transaction that changes the rows, whatever the writer (workflow bookkeeping, the router,
offline feedback, a bulk load, erasure, an exposure deleted and its outcomes set loose). The report
reads them unless it is asked for a time window.

Each key has up to SLOTS rows (`slot`, from the row's id): a counter row stays locked by the transaction
that changed it until that commits; with one row per key, enrollments of a journey would commit one at
a time.

An outcome changes its exposure's figures (converted or not, summed value), so the outcome triggers lock
the exposures they touch first: a concurrent transaction crediting the same exposure waits, then reads
the first one's outcomes with a fresh snapshot (READ COMMITTED, as the application runs): the
conversion is counted once and the square is of the exposure's whole sum.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.totals import SLOTS, add, create_table, install, uninstall

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# source table → (totals table, the columns its trigger reads, the trigger's statements; {changes} is
# the statement's rows with their sign).
TOTALS = {
    "exposures": (
        "variant_exposure_totals",
        "id, journey_id, version, node_id, variant",
        f"""
        INSERT INTO variant_exposure_totals AS t (journey_id, version, node_id, variant, slot, exposures)
        SELECT journey_id, version, node_id, variant, id % {SLOTS}, sum(sign) FROM ({{changes}}) c
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
        {add("journey_id, version, node_id, variant", "exposures")};
        """,
    ),
    # Per exposure and goal touched: how many outcomes and how much value arrived (or left), and its
    # state now, the statement's rows included; before = now - what changed. The exposure's outcomes
    # are found by ix_outcomes_exposure_id (OFFSET 0 keeps the planner from choosing the (journey, goal,
    # node, variant) index instead and scanning a variant's outcomes for each row: quadratic).
    "outcomes": (
        "variant_outcome_totals",
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
            SELECT p.*, now_.n AS rows_now, now_.total AS value_now
            FROM per_exposure p CROSS JOIN LATERAL (
                SELECT count(*) AS n, coalesce(sum(o.value), 0) AS total
                FROM (SELECT * FROM outcomes WHERE exposure_id = p.exposure_id OFFSET 0) o
                WHERE o.goal = p.goal AND o.journey_id = p.journey_id AND o.version = p.version
                  AND o.node_id = p.node_id AND o.variant = p.variant
            ) now_
        )
        INSERT INTO variant_outcome_totals AS t
            (journey_id, version, node_id, variant, goal, slot, conversions, revenue, revenue_squares)
        SELECT journey_id, version, node_id, variant, goal, exposure_id % {SLOTS},
               sum((rows_now > 0)::int - (rows_now - rows_changed > 0)::int),
               sum(value_changed),
               sum(value_now * value_now - (value_now - value_changed) * (value_now - value_changed))
        FROM states GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        {add("journey_id, version, node_id, variant, goal", "conversions, revenue, revenue_squares")};
        """,
    ),
    # A visit is upserted (waiting, then decided): an enrollment's first visit of a node is one row.
    # Steps are counted under their enrollment's journey and version, which never change; enrollments are
    # never deleted either (erasure keeps them, anonymised).
    "enrollment_steps": (
        "node_entry_totals",
        "enrollment_id, node_id, visit",
        f"""
        INSERT INTO node_entry_totals AS t (journey_id, version, node_id, slot, entered)
        SELECT e.journey_id, e.version, c.node_id, hashtext(c.enrollment_id) & {SLOTS - 1}, sum(c.sign)
        FROM ({{changes}}) c JOIN enrollments e ON e.id = c.enrollment_id WHERE c.visit = 1
        GROUP BY 1, 2, 3, 4 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3, 4
        {add("journey_id, version, node_id", "entered")};
        """,
    ),
    "enrollments": (
        "node_status_totals",
        "id, journey_id, version, current_node, status",
        f"""
        INSERT INTO node_status_totals AS t (journey_id, version, node_id, status, slot, enrollments)
        SELECT journey_id, version, current_node, status, hashtext(id) & {SLOTS - 1}, sum(sign)
        FROM ({{changes}}) c WHERE current_node IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
        {add("journey_id, version, node_id, status", "enrollments")};
        """,
    ),
}

BACKFILL = [
    "INSERT INTO variant_exposure_totals (journey_id, version, node_id, variant, slot, exposures)"
    f" SELECT journey_id, version, node_id, variant, id % {SLOTS}, count(*) FROM exposures"
    " GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO variant_outcome_totals"
    " (journey_id, version, node_id, variant, goal, slot, conversions, revenue, revenue_squares)"
    " SELECT journey_id, version, node_id, variant, goal, slot, count(*), sum(value), sum(value * value)"
    f" FROM (SELECT journey_id, version, node_id, variant, goal, exposure_id % {SLOTS} AS slot, exposure_id,"
    "  sum(value) AS value FROM outcomes"
    "  WHERE exposure_id IS NOT NULL AND version IS NOT NULL AND node_id IS NOT NULL AND variant IS NOT NULL"
    "  GROUP BY 1, 2, 3, 4, 5, 6, 7) per_exposure GROUP BY 1, 2, 3, 4, 5, 6",
    "INSERT INTO node_entry_totals (journey_id, version, node_id, slot, entered)"
    f" SELECT e.journey_id, e.version, s.node_id, hashtext(s.enrollment_id) & {SLOTS - 1}, count(*)"
    " FROM enrollment_steps s JOIN enrollments e ON e.id = s.enrollment_id WHERE s.visit = 1"
    " GROUP BY 1, 2, 3, 4",
    "INSERT INTO node_status_totals (journey_id, version, node_id, status, slot, enrollments)"
    f" SELECT journey_id, version, current_node, status, hashtext(id) & {SLOTS - 1}, count(*)"
    " FROM enrollments WHERE current_node IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
]


def upgrade() -> None:
    def variant() -> sa.Column:  # type: ignore[type-arg]
        return sa.Column("variant", sa.String(length=100), nullable=False)

    create_table(
        "variant_exposure_totals", [variant()], [sa.Column("exposures", sa.BigInteger(), nullable=False)]
    )
    create_table(
        "variant_outcome_totals",
        [variant(), sa.Column("goal", sa.String(length=200), nullable=False)],
        [
            sa.Column("conversions", sa.BigInteger(), nullable=False),
            sa.Column("revenue", sa.Numeric(), nullable=False),
            sa.Column("revenue_squares", sa.Numeric(), nullable=False),
        ],
    )
    create_table("node_entry_totals", [], [sa.Column("entered", sa.BigInteger(), nullable=False)])
    create_table(
        "node_status_totals",
        [sa.Column("status", sa.String(length=32), nullable=False)],
        [sa.Column("enrollments", sa.BigInteger(), nullable=False)],
    )
    for source, (totals, columns, statements) in TOTALS.items():
        install(source, totals, columns, statements)
    # After the triggers: creating them locked the tables until this migration commits, so no write
    # between the backfill and the first trigger is missed.
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for source, (totals, _, _) in TOTALS.items():
        uninstall(source, totals)
