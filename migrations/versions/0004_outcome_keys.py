"""outcomes: offline feedback keyed by (external_id, exposure); automatic goals by (exposure, goal)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("uq_outcomes_exposure_id_goal"), "outcomes", type_="unique")
    op.drop_constraint(op.f("uq_outcomes_external_id"), "outcomes", type_="unique")
    op.create_index(
        "uq_outcomes_automatic",
        "outcomes",
        ["exposure_id", "goal"],
        unique=True,
        postgresql_where=sa.text("external_id IS NULL"),
    )
    op.create_index(
        "uq_outcomes_offline",
        "outcomes",
        ["external_id", "exposure_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index(op.f("ix_outcomes_exposure_id"), "outcomes", ["exposure_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outcomes_exposure_id"), table_name="outcomes")
    op.drop_index("uq_outcomes_offline", table_name="outcomes")
    op.drop_index("uq_outcomes_automatic", table_name="outcomes")
    op.create_unique_constraint(op.f("uq_outcomes_external_id"), "outcomes", ["external_id"])
    op.create_unique_constraint(op.f("uq_outcomes_exposure_id_goal"), "outcomes", ["exposure_id", "goal"])
