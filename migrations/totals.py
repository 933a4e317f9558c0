"""The machinery of the report's totals tables (migrations 0011, 0018, 0019): statement-level triggers
that keep counters per key in the transaction that changes the rows they sum. One trigger (and
function) per event: PostgreSQL takes transition tables on single-event triggers only; static
statements are planned once per connection. Each key has up to SLOTS rows (`slot`, from the row's id): a
counter row stays locked by the transaction that changed it until that commits."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

SLOTS = 16
EVENTS = ("INSERT", "UPDATE", "DELETE")
TRANSITIONS = {
    "INSERT": "NEW TABLE AS added",
    "UPDATE": "OLD TABLE AS removed NEW TABLE AS added",
    "DELETE": "OLD TABLE AS removed",
}


def changes(event: str, columns: str) -> str:
    """The statement's rows as (columns, sign): +1 arriving, -1 leaving (an update does both)."""
    added = f"SELECT {columns}, 1 AS sign FROM added"
    removed = f"SELECT {columns}, -1 AS sign FROM removed"
    return {"INSERT": added, "DELETE": removed, "UPDATE": f"{added} UNION ALL {removed}"}[event]


def add(keys: str, counters: str) -> str:
    """`ON CONFLICT` clause adding the selected deltas to the counters of a totals table."""
    updates = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in counters.split(", "))
    return f"ON CONFLICT ({keys}, slot) DO UPDATE SET {updates}"


def create_table(name: str, keys: list[sa.Column], counters: list[sa.Column]) -> None:  # type: ignore[type-arg]
    """A totals table keyed by (journey, version, node, *keys, slot)."""
    key_columns: list[sa.Column] = [  # type: ignore[type-arg]
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        *keys,
        sa.Column("slot", sa.SmallInteger(), nullable=False),
    ]
    op.create_table(
        name,
        *key_columns,
        *counters,
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f(f"fk_{name}_journey_id_journeys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(*(c.name for c in key_columns), name=op.f(f"pk_{name}")),
    )


def functions(totals: str, columns: str, statements: str, replace: bool = False) -> None:
    """The trigger functions of `totals`, one per event; `{changes}` in `statements` is that event's
    rows with their sign. `replace`: over the existing ones (their triggers stay)."""
    create = "CREATE OR REPLACE FUNCTION" if replace else "CREATE FUNCTION"
    for event in EVENTS:
        body = statements.replace("{changes}", changes(event, columns))
        op.execute(
            f"{create} {totals}_on_{event.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body} RETURN NULL; END $$"
        )


def install(source: str, totals: str, columns: str, statements: str) -> None:
    """Triggers on `source` keeping `totals`, a TRUNCATE of `source` emptying it."""
    functions(totals, columns, statements)
    for event in EVENTS:
        name = f"{totals}_on_{event.lower()}"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {source}"
            f" REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(
        f"CREATE FUNCTION {totals}_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN DELETE FROM {totals}; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {totals}_on_truncate AFTER TRUNCATE ON {source}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {totals}_on_truncate()"
    )


def uninstall(source: str, totals: str) -> None:
    for event in (*EVENTS, "TRUNCATE"):
        op.execute(f"DROP TRIGGER {totals}_on_{event.lower()} ON {source}")
        op.execute(f"DROP FUNCTION {totals}_on_{event.lower()}()")
    op.drop_table(totals)
