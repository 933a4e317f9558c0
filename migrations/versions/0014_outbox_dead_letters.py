"""outbox: per-row backoff and parked (dead-letter) rows

A row whose routing keeps failing for a reason of its own (not Temporal or PostgreSQL being away) was
retried first forever, holding back its person's later events and, being the oldest pending row, taking
every claim's first place. Now a failed row waits until `retry_at` (other rows are claimed meanwhile),
and after a bounded number of such failures is parked (`dead_at`): out of the person's order, so their
later events route, and listed for an operator to retry or drop. The pending indexes leave parked rows
out.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "processed_at IS NULL AND dead_at IS NULL"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_index("ix_outbox_pending_profile", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text(PENDING))
    op.create_index(
        "ix_outbox_pending_profile", "outbox", ["profile_id", "id"], postgresql_where=sa.text(PENDING)
    )
    op.create_index(
        "ix_outbox_dead",
        "outbox",
        ["id"],
        postgresql_where=sa.text("processed_at IS NULL AND dead_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_dead", table_name="outbox")
    op.drop_index("ix_outbox_pending_profile", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text("processed_at IS NULL"))
    op.create_index(
        "ix_outbox_pending_profile",
        "outbox",
        ["profile_id", "id"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_column("outbox", "dead_at")
    op.drop_column("outbox", "retry_at")
