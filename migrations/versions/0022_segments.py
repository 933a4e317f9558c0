"""named segments: versioned conditions, their members now, and every entry and exit

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "segment_versions",
        sa.Column(
            "segment_id", sa.BigInteger(), sa.ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("condition", postgresql.JSONB(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "segment_members",
        sa.Column(
            "segment_id", sa.BigInteger(), sa.ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "profile_id", sa.String(200), sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_segment_members_profile", "segment_members", ["profile_id"])
    op.create_table(
        "segment_changes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "segment_id", sa.BigInteger(), sa.ForeignKey("segments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "profile_id", sa.String(200), sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("change", sa.String(8), nullable=False),  # entered | exited
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_segment_changes_segment", "segment_changes", ["segment_id", "id"])
    op.create_index("ix_segment_changes_profile", "segment_changes", ["profile_id"])


def downgrade() -> None:
    op.drop_table("segment_changes")
    op.drop_table("segment_members")
    op.drop_table("segment_versions")
    op.drop_table("segments")
