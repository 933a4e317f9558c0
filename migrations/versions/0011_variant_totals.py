"""variant_exposure_totals, variant_outcome_totals: the report's sufficient statistics, kept by triggers

The variant report counted exposures and summed outcomes per exposure on every request: 300-450 ms at a
million exposures on two cores, growing with them. These tables hold the same figures per (journey,
version, node, variant[, goal]), changed by statement-level triggers in the transaction that changes
`exposures` or `outcomes`, whatever the writer (workflow bookkeeping, the router, offline feedback, a
bulk load, an exposure deleted and its outcomes set loose). The report reads them unless it is asked
for a time window.

An outcome changes its exposure's row (converted or not, summed value), so the outcome trigger locks
the exposures it touches first: a concurrent transaction crediting the same exposure waits, then reads
the first one's outcomes with a fresh snapshot (READ COMMITTED, as the application runs), and the
conversion is counted once and the square is of the exposure's whole sum.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPOSURE_KEYS = "journey_id, version, node_id, variant"

EXPOSURES_TRIGGER = f"""
CREATE FUNCTION variant_exposure_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO variant_exposure_totals AS t ({EXPOSURE_KEYS}, exposures)
        SELECT {EXPOSURE_KEYS}, count(*) FROM added GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT ({EXPOSURE_KEYS}) DO UPDATE SET exposures = t.exposures + excluded.exposures;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO variant_exposure_totals AS t ({EXPOSURE_KEYS}, exposures)
        SELECT {EXPOSURE_KEYS}, -count(*) FROM removed GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT ({EXPOSURE_KEYS}) DO UPDATE SET exposures = t.exposures + excluded.exposures;
    END IF;
    RETURN NULL;
END $$
"""

# Per exposure and goal touched by the statement: how many of its outcomes and how much value arrived
# (or left), then its state now (the statement's rows included); before = now - what changed. The
# exposure's outcomes are found by ix_outcomes_exposure_id (OFFSET 0 keeps the planner from using the
# (journey, goal, node, variant) index instead: one variant's outcomes scanned per row, quadratic).
OUTCOMES_TRIGGER = """
CREATE FUNCTION variant_outcome_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    columns CONSTANT text := 'exposure_id, goal, journey_id, version, node_id, variant, value';
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %1$s, 1 AS sign FROM added', columns)
        WHEN 'DELETE' THEN format('SELECT %1$s, -1 AS sign FROM removed', columns)
        ELSE format('SELECT %1$s, 1 AS sign FROM added UNION ALL SELECT %1$s, -1 FROM removed', columns)
    END;
BEGIN
    EXECUTE format(
        'SELECT 1 FROM exposures WHERE id IN (SELECT exposure_id FROM (%s) c) ORDER BY id FOR NO KEY UPDATE',
        changed
    );
    EXECUTE format($sql$
        WITH per_exposure AS (
            SELECT exposure_id, goal, journey_id, version, node_id, variant,
                   sum(sign) AS rows_changed, sum(sign * value) AS value_changed
            FROM (%s) c
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
            (journey_id, version, node_id, variant, goal, conversions, revenue, revenue_squares)
        SELECT journey_id, version, node_id, variant, goal,
               sum((rows_now > 0)::int - (rows_now - rows_changed > 0)::int),
               sum(value_changed),
               sum(value_now * value_now - (value_now - value_changed) * (value_now - value_changed))
        FROM states GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (journey_id, version, node_id, variant, goal) DO UPDATE SET
            conversions = t.conversions + excluded.conversions,
            revenue = t.revenue + excluded.revenue,
            revenue_squares = t.revenue_squares + excluded.revenue_squares
    $sql$, changed);
    RETURN NULL;
END $$
"""

EMPTIED = """
CREATE FUNCTION variant_totals_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I', TG_ARGV[0]);
    RETURN NULL;
END $$
"""

BACKFILL = [
    f"INSERT INTO variant_exposure_totals ({EXPOSURE_KEYS}, exposures)"
    f" SELECT {EXPOSURE_KEYS}, count(*) FROM exposures GROUP BY 1, 2, 3, 4",
    "INSERT INTO variant_outcome_totals"
    " (journey_id, version, node_id, variant, goal, conversions, revenue, revenue_squares)"
    " SELECT journey_id, version, node_id, variant, goal, count(*), sum(value), sum(value * value) FROM ("
    "  SELECT journey_id, version, node_id, variant, goal, exposure_id, sum(value) AS value FROM outcomes"
    "  WHERE exposure_id IS NOT NULL AND version IS NOT NULL AND node_id IS NOT NULL AND variant IS NOT NULL"
    "  GROUP BY 1, 2, 3, 4, 5, 6) per_exposure GROUP BY 1, 2, 3, 4, 5",
]


def _totals_table(name: str, keys: list[str], *figures: sa.Column) -> None:  # type: ignore[type-arg]
    key_types = {"goal": sa.String(length=200)}
    op.create_table(
        name,
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=False),
        *(sa.Column(key, key_types[key], nullable=False) for key in keys),
        *figures,
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f(f"fk_{name}_journey_id_journeys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "journey_id", "version", "node_id", "variant", *keys, name=op.f(f"pk_{name}")
        ),
    )


def upgrade() -> None:
    _totals_table("variant_exposure_totals", [], sa.Column("exposures", sa.BigInteger(), nullable=False))
    _totals_table(
        "variant_outcome_totals",
        ["goal"],
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(), nullable=False),
        sa.Column("revenue_squares", sa.Numeric(), nullable=False),
    )
    op.execute(EXPOSURES_TRIGGER)
    op.execute(OUTCOMES_TRIGGER)
    op.execute(EMPTIED)
    # One trigger per event: PostgreSQL takes transition tables only on single-event triggers.
    for table in ("exposures", "outcomes"):
        function = f"variant_{table[:-1]}_totals_apply"
        for event, transition in (
            ("INSERT", "NEW TABLE AS added"),
            ("UPDATE", "OLD TABLE AS removed NEW TABLE AS added"),
            ("DELETE", "OLD TABLE AS removed"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_totals_{event.lower()} AFTER {event} ON {table}"
                f" REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_totals_truncate AFTER TRUNCATE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION variant_totals_emptied('variant_{table[:-1]}_totals')"
        )
    # After the triggers: they lock the tables until this migration commits, so no write is missed.
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for table in ("exposures", "outcomes"):
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_totals_{event} ON {table}")
    for function in ("variant_exposure_totals_apply", "variant_outcome_totals_apply"):
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION variant_totals_emptied()")
    op.drop_table("variant_outcome_totals")
    op.drop_table("variant_exposure_totals")
