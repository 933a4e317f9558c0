from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from engine.stats.scale import Scale


class Range(BaseModel):
    low: float
    high: float


class VariantResult(BaseModel):
    variant: str
    is_control: bool
    weight: float | None
    exposures: int
    conversions: int
    conversion_rate: float
    conversion_rate_interval: Range | None
    revenue: float
    revenue_per_exposure: float
    # Against the control (absent for the control itself), on the report's scale: `lift` is the relative
    # lift (treatment / control − 1) or, with scale=absolute, the difference of means.
    lift: float | None = None
    lift_interval: Range | None = None
    p_value: float | None = None
    p_value_holm: float | None = None
    p_value_bh: float | None = None
    chance_to_beat_control: float | None = None
    sequential_interval: Range | None = None
    sequential_p_value: float | None = None
    revenue_lift: float | None = None
    revenue_lift_interval: Range | None = None
    revenue_p_value: float | None = None
    # CUPED (the journey goal, from the kept totals): the same, adjusted by each person's figures in the
    # 30 days before exposure, and how much of the effect's variance that removed.
    cuped_lift: float | None = None
    cuped_lift_interval: Range | None = None
    cuped_p_value: float | None = None
    cuped_variance_reduction: float | None = None
    cuped_revenue_lift: float | None = None
    cuped_revenue_lift_interval: Range | None = None
    cuped_revenue_p_value: float | None = None
    cuped_revenue_variance_reduction: float | None = None


class SplitResult(BaseModel):
    node: str
    goal: str
    control: str
    scale: Scale = "relative"  # of every lift, interval, p-value and chance to beat below
    adaptive: bool = False  # weights moved during the test: compared within allocation periods
    estimator: str = "pooled"  # or how an adaptive split's periods are combined
    variants: list[VariantResult]
    srm_p_value: float | None
    srm_warning: bool
    verdict: str


class FunnelStep(BaseModel):
    node: str
    entered: int
    waiting: int
    ended: dict[str, int]


class FailedDeliveries(BaseModel):
    """Messages that did not go out, by template and reason (a template that cannot render for some
    people shows here), most frequent first."""

    template: str | None
    reason: str | None
    count: int


class Report(BaseModel):
    journey: str
    version: int | None
    goals: list[str]
    splits: list[SplitResult]
    holdout: list[SplitResult]
    funnel: list[FunnelStep]
    failed_deliveries: list[FailedDeliveries] = []
    alpha: float
    scale: Scale = "relative"


class BreakdownBucket(BaseModel):
    bucket: str
    result: SplitResult


class TimePoint(BaseModel):
    """The split as it stood at the end of `until`: every figure cumulative from the first exposure."""

    until: datetime
    result: SplitResult


class Timeseries(BaseModel):
    journey: str
    split: str
    goal: str
    interval: Literal["hour", "day", "week"]
    scale: Scale
    points: list[TimePoint]


class Breakdown(BaseModel):
    journey: str
    split: str
    goal: str
    by: str
    buckets: list[BreakdownBucket]
