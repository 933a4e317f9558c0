"""experiences: placements' versioned definitions, sticky split assignments, and every decision shown

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _experience() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "experience_id",
        sa.BigInteger(),
        sa.ForeignKey("experiences.id", ondelete="CASCADE"),
        primary_key=True,
    )


def _profile(primary_key: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "profile_id",
        sa.String(200),
        sa.ForeignKey("profiles.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "experiences",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("placement", sa.String(100), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "experience_versions",
        _experience(),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "experience_assignments",
        _experience(),
        _profile(primary_key=True),
        sa.Column("variation", sa.String(100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "experience_decisions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "experience_id",
            sa.BigInteger(),
            sa.ForeignKey("experiences.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        _profile(primary_key=False),
        sa.Column("variation", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_experience_decisions_person",
        "experience_decisions",
        ["experience_id", "profile_id", "decided_at"],
    )


def downgrade() -> None:
    op.drop_table("experience_decisions")
    op.drop_table("experience_assignments")
    op.drop_table("experience_versions")
    op.drop_table("experiences")
