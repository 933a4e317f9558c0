"""enrollments: indexes for the console's journey activity (entered and converted in the last day/week)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_enrollments_journey_started", "enrollments", ["journey_id", "started_at"])
    op.create_index(
        "ix_enrollments_journey_converted",
        "enrollments",
        ["journey_id", "ended_at"],
        postgresql_where=sa.text("status = 'exited:goal'"),
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_journey_converted", table_name="enrollments")
    op.drop_index("ix_enrollments_journey_started", table_name="enrollments")
