"""Core tables. They are created only by Alembic migrations (`migrations/versions`); a test checks that
the migrations and these models agree, so repositories can rely on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.events.names import KEY_SQL

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB}


def table(model: type[Base]) -> Table:
    """A model's Core table: statements on it skip the ORM's per-execution bookkeeping (hot paths)."""
    return cast(Table, model.__table__)


def now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Journey(Base):
    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # draft | live | paused | archived
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="draft")
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class JourneyVersion(Base):
    """Immutable: a published definition never changes; running enrollments pin their version."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    author: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = now_column()


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Set when this profile was merged into another (identify/alias); events then live on the survivor.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("profiles.id"))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()

    # "This person's profiles" (id = p OR merged_into = p) is read for every routed event; few are merged.
    __table_args__ = (
        Index("ix_profiles_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
    )


class Identity(Base):
    """`user_id` / `anonymous_id` values seen in events, each resolving to one profile."""

    __tablename__ = "identities"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = now_column()


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index(None, "profile_id", "name", "timestamp"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Unique: a replayed Segment message is a no-op (docs/architecture.md, the event path).
    message_id: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    # The name as compared (engine.events.names), kept by PostgreSQL.
    name_key: Mapped[str | None] = mapped_column(
        Text, Computed(KEY_SQL.format(column="name"), persisted=True)
    )
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = now_column()


# Rows the dispatcher still has to route (parked rows are not: they wait for an operator).
OUTBOX_PENDING = "processed_at IS NULL AND dead_at IS NULL"


class OutboxEntry(Base):
    """Written in the same transaction as the event; the dispatcher routes it to Temporal, then marks it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=text(OUTBOX_PENDING)),
        # "Is there an earlier pending row for this profile?": the per-profile ordering check.
        Index("ix_outbox_pending_profile", "profile_id", "id", postgresql_where=text(OUTBOX_PENDING)),
        Index("ix_outbox_dead", "id", postgresql_where=text("processed_at IS NULL AND dead_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key: written by the statement that writes its event (migration 0010 says why).
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    profile_id: Mapped[str] = mapped_column(String(200), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A row that failed for a reason of its own waits until then (other rows are claimed meanwhile).
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Parked after too many such failures: out of its person's order until an operator retries it.
    dead_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CustomSignal(Base):
    """A declared aggregate over a customer's events (count|sum|last|first|distinct), maybe windowed."""

    __tablename__ = "custom_signals"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    event: Mapped[str] = mapped_column(String(200), nullable=False)
    property: Mapped[str | None] = mapped_column(String(200))
    window_seconds: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()


class Enrollment(Base):
    """Postgres mirror of one pass through a journey, for listing and reporting without asking Temporal.

    `id` is fixed when the enrollment starts and survives continue-as-new; the workflow id
    (`journey:{key}:{pseudonym}`, engine.enrollments.pseudonyms) is reused by later re-entries, so it is not
    unique here.
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        Index(None, "journey_id", "status"),
        Index(None, "profile_id"),
        # A person's running enrollments, read for every routed event.
        Index("ix_enrollments_active_profile", "profile_id", postgresql_where=text("status = 'active'")),
        Index(None, "journey_id", "profile_id", "correlation"),
        # The console's activity: entered and converted in the last day and week.
        Index("ix_enrollments_journey_started", "journey_id", "started_at"),
        Index(
            "ix_enrollments_journey_converted",
            "journey_id",
            "ended_at",
            postgresql_where=text("status = 'exited:goal'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(400), nullable=False)
    # Checked at commit: the enrolling transaction waits for Temporal, and the check's lock on the
    # journey's row, held that long by every entry in flight, made each insert slow (migration 0012).
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", deferrable=True, initially="DEFERRED"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    profile_id: Mapped[str] = mapped_column(String(200), nullable=False)
    correlation: Mapped[str | None] = mapped_column(String(200))
    # active | completed | exited:goal | exited:criteria | exited:operator | failed
    status: Mapped[str] = mapped_column(String(32), nullable=False, server_default="active")
    current_node: Mapped[str | None] = mapped_column(String(100))
    holdout: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    started_at: Mapped[datetime] = now_column()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EnrollmentStep(Base):
    """One node visit. Unique per (enrollment, node, visit) so a retried bookkeeping activity is a no-op."""

    __tablename__ = "enrollment_steps"
    __table_args__ = (UniqueConstraint("enrollment_id", "node_id", "visit"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), nullable=False
    )
    node_id: Mapped[str] = mapped_column(String(100), nullable=False)
    visit: Mapped[int] = mapped_column(Integer, nullable=False)
    node_type: Mapped[str] = mapped_column(String(32), nullable=False)
    # What happened there: the branch case and the signal values it used, the variant, the send result…
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Template(Base):
    """A message template (Jinja2, rendered sandboxed). `version` is the current one; every version ever
    published is kept in `template_versions`, and each delivery names the version it used."""

    __tablename__ = "templates"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    updated_at: Mapped[datetime] = now_column()


class TemplateVersion(Base):
    """An immutable template version."""

    __tablename__ = "template_versions"

    name: Mapped[str] = mapped_column(ForeignKey("templates.name", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = now_column()


class Consent(Base):
    """A person's subscription state per channel (`all` covers every channel). No row = subscribed."""

    __tablename__ = "consents"

    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = now_column()


class Delivery(Base):
    """A message or webhook call. The idempotency key (workflow, node, visit) makes a retry send nothing."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(500), unique=True, nullable=False)
    enrollment_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    profile_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    template: Mapped[str | None] = mapped_column(String(200))
    # pending | sent | skipped | deferred | failed
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    journey_key: Mapped[str | None] = mapped_column(String(200))
    template_version: Mapped[int | None] = mapped_column(Integer)
    # The journey's time when the message went (or was held back): caps and rate limits count by it.
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # In-app messages: when the person read it.
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_deliveries_caps", "profile_id", "channel", "scheduled_at"),
        Index("ix_deliveries_journey_rate", "journey_key", "scheduled_at"),
        Index(
            "ix_deliveries_inbox",
            "profile_id",
            "id",
            postgresql_where=text("channel = 'in_app' AND status = 'sent'"),
        ),
    )


# Imported last, as those tables are declared on the Base above: Base.metadata then holds every table.
from engine.db import experiment_tables, insight_tables  # noqa: E402, F401
