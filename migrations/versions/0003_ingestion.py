"""ingestion: custom signals, per-profile outbox ordering index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:34:43.171690
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_signals",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("property", sa.String(length=200), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_custom_signals")),
    )
    op.create_index(
        "ix_outbox_pending_profile",
        "outbox",
        ["profile_id", "id"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_profile", table_name="outbox")
    op.drop_table("custom_signals")
