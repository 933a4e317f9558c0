"""Experiment tables: exposures (the denominators), outcomes (the numerators), the totals PostgreSQL keeps
of both by trigger (migration 0011), and adaptive splits' weights. Created only by migrations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base


class Exposure(Base):
    """A split assignment (or holdout membership): the denominator of every experiment figure."""

    __tablename__ = "exposures"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "node_id"),
        Index(None, "journey_id", "version", "node_id", "variant"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), nullable=False)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # A split node id, or HOLDOUT_NODE for journey-level holdout membership.
    node_id: Mapped[str] = mapped_column(String(100), nullable=False)
    variant: Mapped[str] = mapped_column(String(100), nullable=False)
    profile_id: Mapped[str] = mapped_column(String(200), nullable=False)
    exposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The customer's traits and signals as the journey last read them before this exposure, so results
    # can be broken down by who the customer was when assigned ("engagement tier"), not who they are now.
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The person's goal events and their value in the 30 days before exposure: CUPED's covariates.
    pre_conversions: Mapped[float | None] = mapped_column(Float)
    pre_value: Mapped[float | None] = mapped_column(Float)


class _Totals:
    """The report's totals. Kept by triggers (migration 0011) in the transaction that changes the rows they
    sum, whatever writes them; never written by code. Each key has up to 16 rows (`slot`, from the row's
    id; SLOTS in the migration): a counter row stays locked by a writing transaction until it commits, so
    one row per key would let one transaction at a time record an exposure of a variant. Readers sum."""

    # sort_order: the shared keys first, the slot after each table's own keys (the migration's order).
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE"), primary_key=True, sort_order=-3
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    node_id: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-1)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=1)


class VariantExposureTotals(_Totals, Base):
    """Exposures per variant."""

    __tablename__ = "variant_exposure_totals"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    exposures: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)
    # CUPED's covariates (migration 0019): Σx and Σx² of the exposures' pre-exposure figures.
    pre_conversions: Mapped[Decimal] = mapped_column(
        Numeric, nullable=False, server_default="0", sort_order=2
    )
    pre_conversions_squares: Mapped[Decimal] = mapped_column(
        Numeric, nullable=False, server_default="0", sort_order=2
    )
    pre_value: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default="0", sort_order=2)
    pre_value_squares: Mapped[Decimal] = mapped_column(
        Numeric, nullable=False, server_default="0", sort_order=2
    )


class VariantOutcomeTotals(_Totals, Base):
    """Per variant and goal, over the outcomes that have an exposure: exposures converted (any outcome),
    and the sum and sum of squares of each converted exposure's summed value (exact: numeric)."""

    __tablename__ = "variant_outcome_totals"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    goal: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversions: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)
    revenue: Mapped[Decimal] = mapped_column(Numeric, nullable=False, sort_order=2)
    revenue_squares: Mapped[Decimal] = mapped_column(Numeric, nullable=False, sort_order=2)
    # CUPED (migration 0019): Σ x·converted and Σ x·value, x the exposure's pre-exposure figure.
    conversions_x_pre: Mapped[Decimal] = mapped_column(
        Numeric, nullable=False, server_default="0", sort_order=2
    )
    revenue_x_pre: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default="0", sort_order=2)


class VariantDailyExposureTotals(_Totals, Base):
    """Exposures per variant and UTC day of exposure (migration 0018): results over time."""

    __tablename__ = "variant_daily_exposure_totals"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    exposures: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)


class VariantDailyOutcomeTotals(_Totals, Base):
    """VariantOutcomeTotals per UTC day of exposure (migration 0018)."""

    __tablename__ = "variant_daily_outcome_totals"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    goal: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    conversions: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)
    revenue: Mapped[Decimal] = mapped_column(Numeric, nullable=False, sort_order=2)
    revenue_squares: Mapped[Decimal] = mapped_column(Numeric, nullable=False, sort_order=2)


class NodeEntryTotals(_Totals, Base):
    """Enrollments that entered each node (their first visit's step)."""

    __tablename__ = "node_entry_totals"

    entered: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)


class NodeStatusTotals(_Totals, Base):
    """Enrollments by current node and status: waiting there (active), or ended there."""

    __tablename__ = "node_status_totals"

    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    enrollments: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=2)


class SplitWeights(Base):
    """Current weights of an adaptive split, recomputed by Thompson sampling at its cadence."""

    __tablename__ = "split_weights"

    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Outcome(Base):
    """A goal reached (automatically, inside the attribution window) or reported offline (external_id)."""

    __tablename__ = "outcomes"
    __table_args__ = (
        Index(None, "journey_id", "goal", "node_id", "variant"),
        Index(None, "exposure_id"),
        # Credited once per exposure, goal and goal event, whichever path (workflow or router) sees the
        # event first (every order inside the window counts; rows from before 0017 have no event id)…
        Index(
            "uq_outcomes_automatic",
            "exposure_id",
            "goal",
            text("(coalesce(event_id, ''))"),
            unique=True,
            postgresql_where=text("external_id IS NULL"),
        ),
        # …and offline feedback once per external id and exposure, however often it is posted.
        Index(
            "uq_outcomes_offline",
            "external_id",
            "exposure_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id"), nullable=False)
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="SET NULL"))
    profile_id: Mapped[str | None] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False, server_default="0")
    external_id: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(200))  # the goal event's messageId (automatic ones)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Copied from the exposure when credited, so the report sums outcomes without a join (1M-row speed).
    version: Mapped[int | None] = mapped_column(Integer)
    node_id: Mapped[str | None] = mapped_column(String(100))
    variant: Mapped[str | None] = mapped_column(String(100))
    exposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
