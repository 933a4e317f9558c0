"""What analysts read: the variant report (and its funnel), and offline outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep, TemporalDep
from engine.errors import InvalidInput, Problem
from engine.outcomes.service import OfflineOutcome, OutcomeRecorded, OutcomeService
from engine.profiles.service import ProfileService
from engine.reports.export import report_csv
from engine.reports.schemas import Breakdown, Report, Timeseries
from engine.reports.service import ReportService
from engine.stats.scale import Scale

SCALE = Query(
    default="relative",
    description="relative: lift = treatment / control − 1 (delta method); absolute: difference of means",
)
router = APIRouter(tags=["reports"], dependencies=[AdminDep])


@router.get(
    "/api/journeys/{key}/report",
    response_model=Report,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def report(
    key: str,
    request: Request,
    session: ReadSessionDep,
    version: int | None = Query(default=None, ge=1, description="only exposures of this version"),
    split: str | None = Query(default=None, description="only this split node (or __holdout__)"),
    goal: str | None = Query(
        default=None, description="only this goal; the journey goal and every recorded one"
    ),
    since: datetime | None = None,
    until: datetime | None = None,
    alpha: float = Query(default=0.05, gt=0, lt=0.5),
    scale: Scale = SCALE,
    prior_sd: float | None = Query(default=None, gt=0, description="proper N(0, σ²) prior on the effect"),
    sequential_tuning: float = Query(
        default=5000, gt=0, description="N* where the always-valid interval is tightest"
    ),
    cuped: bool = Query(
        default=True, description="also adjust by each person's figures before exposure (CUPED); false: off"
    ),
    format: Literal["json", "csv"] | None = Query(
        default=None, description="csv: one row per split, goal and variant (also `Accept: text/csv`)"
    ),
) -> Response:
    """Per split and variant: exposures, conversions, rates with intervals, revenue, lift, p-values,
    chance to beat control, always-valid intervals, SRM check, holdout comparison, funnel, verdict.
    Every comparison is on one scale (`scale`, stated in the answer): p < α exactly when its interval
    excludes 0."""
    result = await ReportService(session).report(
        key,
        version=version,
        split=split,
        goal=goal,
        since=since,
        until=until,
        alpha=alpha,
        scale=scale,
        prior_sd=prior_sd,
        sequential_tuning=sequential_tuning,
        cuped=cuped,
    )
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        return Response(report_csv(result), media_type="text/csv; charset=utf-8")
    return JSONResponse(result.model_dump(mode="json"))


@router.get("/api/journeys/{key}/report/timeseries")
async def timeseries(
    key: str,
    session: ReadSessionDep,
    split: str = Query(description="the split node (or __holdout__)"),
    goal: str | None = Query(default=None, description="the journey goal if unset"),
    interval: Literal["hour", "day", "week"] = "day",
    alpha: float = Query(default=0.05, gt=0, lt=0.5),
    scale: Scale = SCALE,
) -> Timeseries:
    """Results over time: the split as it stood at the end of each period since its first exposure
    (cumulative exposures, conversions, rate, lift and interval per variant), to see an effect settle."""
    return await ReportService(session).timeseries(
        key, split=split, goal=goal, interval=interval, alpha=alpha, scale=scale
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
    scale: Scale = SCALE,
) -> Breakdown:
    """Which customers drive a result: the split's variants compared within each bucket."""
    try:
        thresholds = sorted(float(x) for x in buckets.split(",")) if buckets else None
    except ValueError as error:
        raise InvalidInput(
            "buckets: numbers separated by commas", [Problem("buckets", str(error))]
        ) from error
    return await ReportService(session).breakdown(
        key, split=split, by=by, thresholds=thresholds, goal=goal, alpha=alpha, scale=scale
    )


@router.post("/api/outcomes")
async def record_outcome(
    outcome: OfflineOutcome, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> OutcomeRecorded:
    """Offline feedback (a CRM deal won, a refund), idempotent by `external_id`."""
    profile_id = await ProfileService(session, temporal, settings).find(outcome.profile)
    return await OutcomeService(session).offline(outcome, profile_id)
