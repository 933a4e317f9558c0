"""core tables

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 10:54:01.222988
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=500), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
    )
    op.create_index(op.f("ix_deliveries_profile_id"), "deliveries", ["profile_id"], unique=False)
    op.create_index(op.f("ix_deliveries_workflow_id"), "deliveries", ["workflow_id"], unique=False)
    op.create_table(
        "journeys",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("draft", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journeys")),
        sa.UniqueConstraint("key", name=op.f("uq_journeys_key")),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column(
            "traits",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("merged_into", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["profiles.id"], name=op.f("fk_profiles_merged_into_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
    )
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
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_enrollments_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("workflow_id", name=op.f("pk_enrollments")),
    )
    op.create_index(
        op.f("ix_enrollments_journey_id_status"), "enrollments", ["journey_id", "status"], unique=False
    )
    op.create_index(op.f("ix_enrollments_profile_id"), "enrollments", ["profile_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_events_profile_id_profiles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("message_id", name=op.f("uq_events_message_id")),
    )
    op.create_index(
        op.f("ix_events_profile_id_name_timestamp"),
        "events",
        ["profile_id", "name", "timestamp"],
        unique=False,
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("exposed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_exposures_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sa.UniqueConstraint("workflow_id", "node_id", name=op.f("uq_exposures_workflow_id_node_id")),
    )
    op.create_index(
        op.f("ix_exposures_journey_id_version_node_id_variant"),
        "exposures",
        ["journey_id", "version", "node_id", "variant"],
        unique=False,
    )
    op.create_table(
        "identities",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_identities_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_identities")),
    )
    op.create_index(op.f("ix_identities_profile_id"), "identities", ["profile_id"], unique=False)
    op.create_table(
        "journey_versions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_versions_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_versions")),
        sa.UniqueConstraint("journey_id", "version", name=op.f("uq_journey_versions_journey_id_version")),
    )
    op.create_table(
        "enrollment_steps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
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
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_outbox_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], unique=False, postgresql_where=sa.text("processed_at IS NULL")
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("exposure_id", sa.BigInteger(), nullable=True),
        sa.Column("profile_id", sa.String(length=200), nullable=True),
        sa.Column("goal", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), server_default="0", nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["exposure_id"],
            ["exposures.id"],
            name=op.f("fk_outcomes_exposure_id_exposures"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_outcomes_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("external_id", name=op.f("uq_outcomes_external_id")),
    )
    op.create_index(op.f("ix_outcomes_journey_id_goal"), "outcomes", ["journey_id", "goal"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outcomes_journey_id_goal"), table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index("ix_outbox_pending", table_name="outbox", postgresql_where=sa.text("processed_at IS NULL"))
    op.drop_table("outbox")
    op.drop_table("enrollment_steps")
    op.drop_table("journey_versions")
    op.drop_index(op.f("ix_identities_profile_id"), table_name="identities")
    op.drop_table("identities")
    op.drop_index(op.f("ix_exposures_journey_id_version_node_id_variant"), table_name="exposures")
    op.drop_table("exposures")
    op.drop_index(op.f("ix_events_profile_id_name_timestamp"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_enrollments_profile_id"), table_name="enrollments")
    op.drop_index(op.f("ix_enrollments_journey_id_status"), table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_table("profiles")
    op.drop_table("journeys")
    op.drop_index(op.f("ix_deliveries_workflow_id"), table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_profile_id"), table_name="deliveries")
    op.drop_table("deliveries")
