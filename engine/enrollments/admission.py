"""Admission: may this person enter this journey now? Decided under an advisory lock on (journey,
profile, correlation), in the transaction that records the enrollment, so racing entries cannot both
get in and the next event of the same person always sees the enrollment."""

from __future__ import annotations

from datetime import timedelta

from engine.db.models import Enrollment
from engine.enrollments.contracts import Admission
from engine.enrollments.repository import EnrollmentRepository
from engine.journeys.assignment import HOLDOUT_NODE

ERASED = "the person was erased"  # refused: their profile is gone (checked under its row lock)


def refusal(previous: Enrollment | None, candidate: Admission) -> str | None:
    """Why the candidate may not enter after `previous`, the latest enrollment of its (journey, profile,
    correlation) read under the entry lock (None: it may)."""
    if previous is None:
        return None
    if candidate.reentry_mode == "never":
        return "re-entry: never (already enrolled once)"
    if candidate.reentry_mode == "after_exit":
        if previous.status == "active":
            return "re-entry: after_exit (still enrolled)"
        cooldown = timedelta(seconds=candidate.reentry_cooldown_seconds or 0)
        if previous.ended_at is not None and previous.ended_at + cooldown > candidate.now:
            return "re-entry: after_exit cooldown not over"
    return None


async def admit(repo: EnrollmentRepository, candidate: Admission, previous: Enrollment | None) -> str | None:
    """Records the enrollment (and its holdout membership) unless refused; returns the refusal.
    The caller holds the entry lock (EnrollmentRepository.lock_entry) for the transaction and read
    `previous` under it."""
    reason = refusal(previous, candidate)
    if reason is not None:
        return reason
    await repo.add(
        Enrollment(
            id=candidate.enrollment_id,
            workflow_id=candidate.workflow_id,
            journey_id=candidate.journey_id,
            version=candidate.version,
            profile_id=candidate.profile_id,
            correlation=candidate.correlation,
            holdout=candidate.holdout,
            started_at=candidate.now,
        )
    )
    if candidate.holdout_percent > 0:
        # Journey-level holdout membership for both groups: the denominators of the comparison.
        await repo.record_exposure(
            {
                "enrollment_id": candidate.enrollment_id,
                "journey_id": candidate.journey_id,
                "version": candidate.version,
                "node_id": HOLDOUT_NODE,
                "variant": "holdout" if candidate.holdout else "treatment",
                "profile_id": candidate.profile_id,
                "exposed_at": candidate.now,
            }
        )
    return None
