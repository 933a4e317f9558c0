"""What analysts read: the variant report (and its funnel), and offline outcomes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep, TemporalDep
from engine.errors import InvalidInput, Problem
from engine.outcomes.service import OfflineOutcome, OutcomeRecorded, OutcomeService
from engine.profiles.service import ProfileService
from engine.reports.schemas import Breakdown, Report
from engine.reports.service import ReportService

router = APIRouter(tags=["reports"], dependencies=[AdminDep])


@router.get("/api/journeys/{key}/report")
async def report(
    key: str,
    session: ReadSessionDep,
    version: int | None = Query(default=None, ge=1, description="only exposures of this version"),
    split: str | None = Query(default=None, description="only this split node (or __holdout__)"),
    goal: str | None = Query(
        default=None, description="only this goal; the journey goal and every recorded one"
    ),
    since: datetime | None = None,
    until: datetime | None = None,
    alpha: float = Query(default=0.05, gt=0, lt=0.5),
    prior_sd: float | None = Query(default=None, gt=0, description="proper N(0, σ²) prior on the difference"),
    sequential_tuning: float = Query(
        default=5000, gt=0, description="N* where the always-valid interval is tightest"
    ),
) -> Report:
    """Per split and variant: exposures, conversions, rates with intervals, revenue, lift, p-values,
    chance to beat control, always-valid intervals, SRM check, holdout comparison, funnel, verdict."""
    return await ReportService(session).report(
        key,
        version=version,
        split=split,
        goal=goal,
        since=since,
        until=until,
        alpha=alpha,
        prior_sd=prior_sd,
        sequential_tuning=sequential_tuning,
    )


@router.get("/api/journeys/{key}/report/breakdown")
async def breakdown(
    key: str,
    session: ReadSessionDep,
    split: str = Query(description="the split node"),
    by: str = Query(
        description="traits.<name> or signals.<name>, as recorded when each customer was exposed"
    ),
    buckets: str | None = Query(default=None, description="numeric thresholds, e.g. 30,60 → <30, 30–60, ≥60"),
    goal: str | None = None,
    alpha: float = Query(default=0.05, gt=0, lt=0.5),
) -> Breakdown:
    """Which customers drive a result: the split's variants compared within each bucket."""
    try:
        thresholds = sorted(float(x) for x in buckets.split(",")) if buckets else None
    except ValueError as error:
        raise InvalidInput(
            "buckets: numbers separated by commas", [Problem("buckets", str(error))]
        ) from error
    return await ReportService(session).breakdown(
        key, split=split, by=by, thresholds=thresholds, goal=goal, alpha=alpha
    )


@router.post("/api/outcomes")
async def record_outcome(
    outcome: OfflineOutcome, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> OutcomeRecorded:
    """Offline feedback (a CRM deal won, a refund), idempotent by `external_id`."""
    profile_id = await ProfileService(session, temporal, settings).find(outcome.profile)
    return await OutcomeService(session).offline(outcome, profile_id)
