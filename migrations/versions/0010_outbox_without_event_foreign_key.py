"""outbox: no foreign key to events (the row is written by the statement that writes its event)

The check cost a lookup and a row lock per event stored, and the plan each connection caches for it is
made once: made while `events` was small (a new install, a benchmark) it scans the whole table, so every
event stored cost more than the one before until the table was next analyzed (PostgreSQL CPU per event
0.3 -> 1.8 ms over 24,000 events, back to 0.3 after ANALYZE). Erasure deletes outbox rows by profile
itself; nothing else deletes events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_outbox_event_id_events", "outbox", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "fk_outbox_event_id_events", "outbox", "events", ["event_id"], ["id"], ondelete="CASCADE"
    )
