"""outcomes: every goal event inside the window is credited, not only the first

An exposure had at most one automatic outcome per goal (unique on exposure and goal), so a customer's
second and third order inside the window were lost and revenue per exposure was understated. Automatic
outcomes now carry the goal event's messageId and are unique per (exposure, goal, event): the running
enrollment and the router crediting the same event still write one row. Rows from before keep an empty
event id, unique per (exposure, goal) as they were. The totals triggers (0011) already sum every outcome
of an exposure; the conversion rate still counts an exposure once.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("event_id", sa.String(length=200), nullable=True))
    op.drop_index("uq_outcomes_automatic", table_name="outcomes")
    op.execute(
        "CREATE UNIQUE INDEX uq_outcomes_automatic ON outcomes (exposure_id, goal, (coalesce(event_id, '')))"
        " WHERE external_id IS NULL"
    )


def downgrade() -> None:
    op.drop_index("uq_outcomes_automatic", table_name="outcomes")
    op.execute(
        "DELETE FROM outcomes o WHERE external_id IS NULL AND event_id IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM outcomes f WHERE f.exposure_id = o.exposure_id AND f.goal = o.goal"
        " AND f.external_id IS NULL AND f.id < o.id)"
    )
    op.create_index(
        "uq_outcomes_automatic",
        "outcomes",
        ["exposure_id", "goal"],
        unique=True,
        postgresql_where=sa.text("external_id IS NULL"),
    )
    op.drop_column("outcomes", "event_id")
