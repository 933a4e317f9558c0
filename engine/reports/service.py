"""The variant report analysts read: per split and goal, what each variant did against the control."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import InvalidInput, NotFound, Problem
from engine.journeys.assignment import HOLDOUT_NODE
from engine.journeys.dsl import JourneyDefinition, SplitNode
from engine.journeys.repository import JourneyRepository
from engine.reports.repository import ReportRepository, VariantTotals
from engine.reports.schemas import (
    Breakdown,
    BreakdownBucket,
    FailedDeliveries,
    FunnelStep,
    Report,
    SplitResult,
    TimePoint,
    Timeseries,
)
from engine.reports.splits import Options, adjust, split_result, verdict
from engine.stats.scale import Scale

MAX_POINTS = 1000  # a timeseries' periods
PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


class ReportService:
    def __init__(self, session: AsyncSession) -> None:
        self.journeys = JourneyRepository(session)
        self.repo = ReportRepository(session)

    async def report(
        self,
        key: str,
        *,
        version: int | None = None,
        split: str | None = None,
        goal: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        alpha: float = 0.05,
        scale: Scale = "relative",
        prior_sd: float | None = None,
        sequential_tuning: float = 5000,
        cuped: bool = True,
    ) -> Report:
        journey = await self.journeys.get(key)
        if journey is None:
            raise NotFound(f"no journey with key {key!r}")
        latest = await self.journeys.latest_version(journey.id)
        if latest is None:
            raise NotFound(f"journey {key!r} has no published version")
        shape = latest if version is None else await self.journeys.version(journey.id, version)
        if shape is None:
            raise NotFound(f"journey {key!r} has no version {version}")
        definition = JourneyDefinition.model_validate(shape.definition)
        recorded = await self.repo.goals(journey.id)
        default = [definition.goal.event] if definition.goal else []
        goals = [goal] if goal else list(dict.fromkeys(default + recorded))
        splits: list[SplitResult] = []
        holdouts: list[SplitResult] = []
        for goal_name in goals:
            # CUPED's covariate is each person's figure for the journey goal: other goals are not adjusted.
            adjust_by = cuped and definition.goal is not None and goal_name == definition.goal.event
            totals = await self.repo.totals(
                journey.id, goal_name, version=version, node=split, since=since, until=until
            )
            by_node: dict[str, list[VariantTotals]] = {}
            for row in totals:
                by_node.setdefault(row.node_id, []).append(row)
            for node_id, rows in by_node.items():
                node = definition.nodes.get(node_id)
                if node_id == HOLDOUT_NODE:
                    weights = {
                        "holdout": float(definition.holdout),
                        "treatment": float(100 - definition.holdout),
                    }
                    result = split_result(
                        node_id,
                        goal_name,
                        "holdout",
                        weights,
                        rows,
                        Options(alpha, scale, prior_sd, sequential_tuning, adjust_by),
                    )
                    holdouts.append(result)
                elif isinstance(node, SplitNode):
                    weights = {v.name: float(v.weight) for v in node.variants}
                    strata = None
                    if node.adaptive is not None:
                        strata = await self.repo.by_allocation(journey.id, goal_name, node_id, version)
                    result = split_result(
                        node_id,
                        goal_name,
                        node.control_name,
                        weights,
                        rows,
                        Options(alpha, scale, prior_sd, sequential_tuning, adjust_by),
                        strata,
                    )
                    splits.append(result)
        adjust(splits + holdouts)
        for result in splits + holdouts:
            result.verdict = verdict(result, alpha)
        funnel = [
            FunnelStep(node=node, entered=entered, waiting=waiting, ended=ended)
            for node, entered, waiting, ended in await self.repo.funnel(journey.id, version)
        ]
        return Report(
            journey=key,
            version=version,
            goals=goals,
            splits=splits,
            holdout=holdouts,
            funnel=funnel,
            scale=scale,
            failed_deliveries=[
                FailedDeliveries(template=template, reason=reason, count=count)
                for template, reason, count in await self.repo.failed_deliveries(key)
            ],
            alpha=alpha,
        )

    async def timeseries(
        self, key: str, *, split: str, goal: str | None, interval: str, alpha: float, scale: Scale
    ) -> Timeseries:
        """A split's results as they stood at the end of each period since its first exposure: cumulative
        exposures, conversions, rates, lift and interval per variant (what analysts plot to see an effect
        settle), computed from the same sufficient statistics as the report."""
        definition, journey_id = await self._published(key)
        node = definition.nodes.get(split)
        if split == HOLDOUT_NODE:
            control, weights = (
                "holdout",
                {"holdout": float(definition.holdout), "treatment": 100.0 - definition.holdout},
            )
        elif isinstance(node, SplitNode):
            control, weights = node.control_name, {v.name: float(v.weight) for v in node.variants}
        else:
            raise InvalidInput(
                f"split: {split!r} is not a split node", [Problem("split", "not a split node")]
            )
        goal_name = goal or (definition.goal.event if definition.goal else None)
        if goal_name is None:
            raise InvalidInput("goal: the journey has no goal; name one", [Problem("goal", "required")])
        periods: dict[datetime, list[VariantTotals]] = {}
        for at, totals in await self.repo.by_period(journey_id, goal_name, split, interval):
            periods.setdefault(at, []).append(totals)
        if len(periods) > MAX_POINTS:
            raise InvalidInput(
                f"interval: {len(periods)} {interval}s of exposures, more than {MAX_POINTS}; ask by a"
                " longer one",
                [Problem("interval", f"at most {MAX_POINTS} points")],
            )
        running: dict[str, VariantTotals] = {}
        points = []
        for at in sorted(periods):
            for t in periods[at]:
                before = running.get(t.variant) or VariantTotals(split, t.variant, 0, 0, 0.0, 0.0)
                running[t.variant] = VariantTotals(
                    split,
                    t.variant,
                    before.exposures + t.exposures,
                    before.conversions + t.conversions,
                    before.revenue + t.revenue,
                    before.revenue_squares + t.revenue_squares,
                )
            result = split_result(
                split, goal_name, control, weights, list(running.values()), Options(alpha, scale)
            )
            result.verdict = verdict(result, alpha)
            points.append(TimePoint(until=at + PERIODS[interval], result=result))
        return Timeseries(
            journey=key, split=split, goal=goal_name, interval=interval, scale=scale, points=points
        )

    async def _published(self, key: str) -> tuple[JourneyDefinition, int]:
        journey = await self.journeys.get(key)
        latest = await self.journeys.latest_version(journey.id) if journey else None
        if journey is None or latest is None:
            raise NotFound(f"no published journey with key {key!r}")
        return JourneyDefinition.model_validate(latest.definition), journey.id

    async def breakdown(
        self,
        key: str,
        *,
        split: str,
        by: str,
        thresholds: list[float] | None,
        goal: str | None,
        alpha: float = 0.05,
        scale: Scale = "relative",
    ) -> Breakdown:
        """A split's variants compared within each bucket of a trait or signal, as recorded at exposure."""
        definition, journey_id = await self._published(key)
        node = definition.nodes.get(split)
        if not isinstance(node, SplitNode):
            raise InvalidInput(
                f"split: {split!r} is not a split node", [Problem("split", "not a split node")]
            )
        kind, _, name = by.partition(".")
        if kind not in ("traits", "signals") or not name.replace("_", "").isalnum():
            raise InvalidInput(
                "by: write traits.<name> or signals.<name>", [Problem("by", "traits.x or signals.x")]
            )
        goal_name = goal or (definition.goal.event if definition.goal else None)
        if goal_name is None:
            raise InvalidInput("goal: the journey has no goal; name one", [Problem("goal", "required")])
        weights = {v.name: float(v.weight) for v in node.variants}
        by_bucket: dict[str, list[VariantTotals]] = {}
        for bucket, totals in await self.repo.breakdown(
            journey_id, goal_name, split, (kind, name), thresholds
        ):
            by_bucket.setdefault(bucket, []).append(totals)
        results = [
            BreakdownBucket(
                bucket=bucket,
                result=split_result(
                    split, goal_name, node.control_name, weights, rows, Options(alpha, scale)
                ),
            )
            for bucket, rows in by_bucket.items()
        ]
        adjust([b.result for b in results])
        for b in results:
            b.result.verdict = verdict(b.result, alpha)
        return Breakdown(journey=key, split=split, goal=goal_name, by=by, buckets=results)
