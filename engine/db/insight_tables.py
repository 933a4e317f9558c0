"""What the engine learns about people: trained predictive models and their scores (engine.predictions),
named segments with their members and history (engine.segments). Created only by migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.models import Base, now_column


class ModelVersion(Base):
    """A trained set of predictive models (engine.predictions): what the read path scores with."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    trained_at: Mapped[datetime] = now_column()
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    customers: Mapped[int] = mapped_column(Integer, nullable=False)
    customers_with_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class Prediction(Base):
    """Each customer's scores as of the latest training (the live read recomputes them from events)."""

    __tablename__ = "predictions"

    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), nullable=False)
    signals: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    explanations: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Segment(Base):
    """A named, versioned condition over people (engine.segments): its members are kept as events arrive."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = now_column()


class SegmentVersion(Base):
    __tablename__ = "segment_versions"

    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    condition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    author: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = now_column()


class SegmentMember(Base):
    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_profile", "profile_id"),)

    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SegmentChange(Base):
    """Every entry into and exit from a segment: its membership history."""

    __tablename__ = "segment_changes"
    __table_args__ = (
        Index("ix_segment_changes_segment", "segment_id", "id"),
        Index("ix_segment_changes_profile", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), nullable=False)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False)
    change: Mapped[str] = mapped_column(String(8), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Experience(Base):
    """What a placement on a website or app shows, decided per request (engine.experiences)."""

    __tablename__ = "experiences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    placement: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    updated_at: Mapped[datetime] = now_column()


class ExperienceVersion(Base):
    __tablename__ = "experience_versions"

    experience_id: Mapped[int] = mapped_column(
        ForeignKey("experiences.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    published_at: Mapped[datetime] = now_column()


class ExperienceAssignment(Base):
    """A person's split variation, kept so it follows them when their profiles merge."""

    __tablename__ = "experience_assignments"

    experience_id: Mapped[int] = mapped_column(
        ForeignKey("experiences.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    variation: Mapped[str] = mapped_column(String(100), nullable=False)
    assigned_at: Mapped[datetime] = now_column()


class ExperienceDecision(Base):
    """Every decision shown: the frequency cap counts them; those of a split are its exposures."""

    __tablename__ = "experience_decisions"
    __table_args__ = (Index("ix_experience_decisions_person", "experience_id", "profile_id", "decided_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    experience_id: Mapped[int] = mapped_column(
        ForeignKey("experiences.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False)
    variation: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)  # rule:<n> | split | default
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
