"""outcomes carry their exposure's version, node, variant and time (the report reads no join)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column("outcomes", sa.Column("node_id", sa.String(length=100), nullable=True))
    op.add_column("outcomes", sa.Column("variant", sa.String(length=100), nullable=True))
    op.add_column("outcomes", sa.Column("exposed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE outcomes o SET version = x.version, node_id = x.node_id, variant = x.variant,"
        " exposed_at = x.exposed_at FROM exposures x WHERE x.id = o.exposure_id"
    )
    op.drop_index(op.f("ix_outcomes_journey_id_goal"), table_name="outcomes")
    op.create_index(
        op.f("ix_outcomes_journey_id_goal_node_id_variant"),
        "outcomes",
        ["journey_id", "goal", "node_id", "variant"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outcomes_journey_id_goal_node_id_variant"), table_name="outcomes")
    op.create_index(op.f("ix_outcomes_journey_id_goal"), "outcomes", ["journey_id", "goal"])
    for column in ("exposed_at", "variant", "node_id", "version"):
        op.drop_column("outcomes", column)
