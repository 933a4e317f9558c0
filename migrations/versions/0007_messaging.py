"""messaging: template versions, consent, delivery policy columns, in-app inbox index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "templates", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.create_table(
        "template_versions",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["templates.name"], name=op.f("fk_template_versions_name_templates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_template_versions")),
    )
    # Templates saved before versions existed become their own version 1.
    op.execute(
        "INSERT INTO template_versions (name, version, subject, body, html, checksum)"
        " SELECT name, 1, subject, body, html,"
        " encode(sha256(convert_to(coalesce(subject, '') || body || coalesce(html, ''), 'UTF8')), 'hex')"
        " FROM templates"
    )
    op.create_table(
        "consents",
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_consents_profile_id_profiles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("profile_id", "channel", name=op.f("pk_consents")),
    )
    op.add_column("deliveries", sa.Column("journey_key", sa.String(length=200), nullable=True))
    op.add_column("deliveries", sa.Column("template_version", sa.Integer(), nullable=True))
    op.add_column("deliveries", sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_deliveries_caps", "deliveries", ["profile_id", "channel", "scheduled_at"])
    op.create_index("ix_deliveries_journey_rate", "deliveries", ["journey_key", "scheduled_at"])
    op.create_index(
        "ix_deliveries_inbox",
        "deliveries",
        ["profile_id", "id"],
        postgresql_where=sa.text("channel = 'in_app' AND status = 'sent'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_inbox", table_name="deliveries")
    op.drop_index("ix_deliveries_journey_rate", table_name="deliveries")
    op.drop_index("ix_deliveries_caps", table_name="deliveries")
    for column in ("read_at", "scheduled_at", "template_version", "journey_key"):
        op.drop_column("deliveries", column)
    op.drop_table("consents")
    op.drop_table("template_versions")
    op.drop_column("templates", "version")
