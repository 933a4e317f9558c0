"""enrollment runtime: enrollment ids that survive re-entry, step details, templates, outcome uniqueness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

`enrollments` and `enrollment_steps` are recreated rather than altered: no release ran enrollments on
revision 0001, and their primary key changes (a workflow id is reused by later re-entries).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.drop_table("enrollment_steps")
    op.drop_table("enrollments")
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("correlation", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("current_node", sa.String(length=100), nullable=True),
        sa.Column("holdout", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_enrollments_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    op.create_index(op.f("ix_enrollments_journey_id_status"), "enrollments", ["journey_id", "status"])
    op.create_index(op.f("ix_enrollments_profile_id"), "enrollments", ["profile_id"])
    op.create_index(op.f("ix_enrollments_workflow_id"), "enrollments", ["workflow_id"])
    op.create_index(
        op.f("ix_enrollments_journey_id_profile_id_correlation"),
        "enrollments",
        ["journey_id", "profile_id", "correlation"],
    )
    op.create_table(
        "enrollment_steps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("enrollment_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("node_type", sa.String(length=32), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_enrollment_steps_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_steps")),
        sa.UniqueConstraint(
            "enrollment_id", "node_id", "visit", name=op.f("uq_enrollment_steps_enrollment_id_node_id_visit")
        ),
    )
    op.create_table(
        "templates",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_templates")),
    )
    op.drop_index(op.f("ix_deliveries_workflow_id"), table_name="deliveries")
    op.drop_column("deliveries", "workflow_id")
    op.add_column("deliveries", sa.Column("enrollment_id", sa.String(length=64), nullable=False))
    op.create_index(op.f("ix_deliveries_enrollment_id"), "deliveries", ["enrollment_id"])
    op.drop_constraint(op.f("uq_exposures_workflow_id_node_id"), "exposures", type_="unique")
    op.drop_column("exposures", "workflow_id")
    op.add_column("exposures", sa.Column("enrollment_id", sa.String(length=64), nullable=False))
    op.create_unique_constraint(
        op.f("uq_exposures_enrollment_id_node_id"), "exposures", ["enrollment_id", "node_id"]
    )
    # Exposure and outcome times are the workflow's time (deterministic, time-skipping aware), never now().
    op.alter_column("exposures", "exposed_at", server_default=None)
    op.alter_column("outcomes", "occurred_at", server_default=None)
    op.create_unique_constraint(op.f("uq_outcomes_exposure_id_goal"), "outcomes", ["exposure_id", "goal"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_outcomes_exposure_id_goal"), "outcomes", type_="unique")
    op.alter_column("outcomes", "occurred_at", server_default=NOW)
    op.alter_column("exposures", "exposed_at", server_default=NOW)
    op.drop_constraint(op.f("uq_exposures_enrollment_id_node_id"), "exposures", type_="unique")
    op.drop_column("exposures", "enrollment_id")
    op.add_column("exposures", sa.Column("workflow_id", sa.String(length=400), nullable=False))
    op.create_unique_constraint(
        op.f("uq_exposures_workflow_id_node_id"), "exposures", ["workflow_id", "node_id"]
    )
    op.drop_index(op.f("ix_deliveries_enrollment_id"), table_name="deliveries")
    op.drop_column("deliveries", "enrollment_id")
    op.add_column("deliveries", sa.Column("workflow_id", sa.String(length=400), nullable=False))
    op.create_index(op.f("ix_deliveries_workflow_id"), "deliveries", ["workflow_id"])
    op.drop_table("templates")
    op.drop_table("enrollment_steps")
    op.drop_table("enrollments")
    op.create_table(
        "enrollments",
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("correlation", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("current_node", sa.String(length=100), nullable=True),
        sa.Column("holdout", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_enrollments_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("workflow_id", name=op.f("pk_enrollments")),
    )
    op.create_index(op.f("ix_enrollments_journey_id_status"), "enrollments", ["journey_id", "status"])
    op.create_index(op.f("ix_enrollments_profile_id"), "enrollments", ["profile_id"])
    op.create_table(
        "enrollment_steps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["enrollments.workflow_id"],
            name=op.f("fk_enrollment_steps_workflow_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_steps")),
        sa.UniqueConstraint(
            "workflow_id", "node_id", "visit", name=op.f("uq_enrollment_steps_workflow_id_node_id_visit")
        ),
    )
