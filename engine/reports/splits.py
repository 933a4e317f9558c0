"""One split (or holdout) read against its control: the variants' figures, their comparisons on the
report's scale, the sample-ratio check and the verdict; and the multiple-comparison adjustments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.reports.repository import VariantTotals
from engine.reports.schemas import Range, SplitResult, VariantResult
from engine.stats.experiments import (
    Combined,
    Comparison,
    Estimate,
    Interval,
    Moments,
    Paired,
    benjamini_hochberg,
    compare,
    cuped,
    effect,
    expected_exposures,
    holm,
    mean_interval,
    post_stratified,
    sample_ratio_mismatch,
)
from engine.stats.scale import Scale

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Options:
    """How a report compares: its α, its scale, the chance-to-beat prior, the sequential tuning N*."""

    alpha: float = 0.05
    scale: Scale = "relative"
    prior_sd: float | None = None
    tuning: float = 5000
    cuped: bool = False  # adjust by each person's pre-exposure figures (the journey goal only)

    def compare(self, t: Estimate, c: Estimate, *, prior: bool = True) -> Comparison:
        """Treatment against control as this report compares (the prior: for the conversion rate)."""
        return compare(
            t,
            c,
            scale=self.scale,
            alpha=self.alpha,
            prior_sd=self.prior_sd if prior else None,
            tuning=self.tuning,
        )


def _range(interval: Interval | None) -> Range | None:
    return Range(low=interval.low, high=interval.high) if interval else None


def _conversion(t: VariantTotals) -> Moments:
    return Moments(t.exposures, t.conversions, t.conversions)  # y ∈ {0, 1}


def _revenue(t: VariantTotals) -> Moments:
    return Moments(t.exposures, t.revenue, t.revenue_squares)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def _effect(x: float, scale: Scale) -> str:
    return f"relative lift {_pct(x)}" if scale == "relative" else f"difference {x:+.3g}"


def verdict(result: SplitResult, alpha: float) -> str:
    if result.srm_warning:
        return (
            f"Sample ratio mismatch (p = {result.srm_p_value:.2g}): exposures do not follow the configured"
            " weights, so these results cannot be trusted until the cause is found."
        )
    contenders = [v for v in result.variants if not v.is_control and v.p_value_holm is not None]
    if not contenders:
        return "Not enough data yet to compare variants."
    best = min(contenders, key=lambda v: v.p_value_holm or 1.0)
    lift = _effect(best.lift, result.scale) if best.lift is not None else "lift n/a"
    if best.p_value_holm is not None and best.p_value_holm < alpha and best.lift is not None:
        direction = "beats" if best.lift > 0 else "loses to"
        return (
            f"{best.variant} {direction} {result.control} on {result.goal}: {best.conversion_rate:.1%} vs "
            f"control, {lift} (p = {best.p_value_holm:.2g} after Holm adjustment, "
            f"chance to beat control {best.chance_to_beat_control or 0:.0%})."
        )
    return (
        f"No variant is distinguishable from {result.control} on {result.goal} yet "
        f"(best: {best.variant}, {lift}, adjusted p = {best.p_value_holm:.2g})."
    )


class _Adaptive:
    """An adaptive split read period by period: combined estimates per variant, and the exposures
    observed and expected under the weights in force (periods whose weights are gone, the erased
    people's, are left out of the check)."""

    def __init__(self, strata: Sequence[tuple[str | None, VariantTotals]], variants: list[str]) -> None:
        periods: dict[str | None, dict[str, VariantTotals]] = {}
        for allocation, totals in strata:
            periods.setdefault(allocation, {})[totals.variant] = totals
        each = list(periods.values())
        self.conversion = post_stratified([{v: _conversion(t) for v, t in p.items()} for p in each])
        self.revenue = post_stratified([{v: _revenue(t) for v, t in p.items()} for p in each])
        known = {a: p for a, p in periods.items() if a is not None}
        self.counts = [sum(p[v].exposures for p in known.values() if v in p) for v in variants]
        self.expected = expected_exposures(
            variants, [(sum(t.exposures for t in p.values()), json.loads(a)) for a, p in known.items()]
        )
        self.estimator = f"post-stratified by allocation period ({len(periods)} periods)"


class _Cuped:
    """CUPED-adjusted estimates per variant for the conversion and the value metric (engine.stats)."""

    def __init__(self, conversion: dict[str, Combined] | None, value: dict[str, Combined] | None) -> None:
        self.conversion, self.value = conversion or {}, value or {}

    def compare(
        self,
        name: str,
        control: str,
        plain: Mapping[str, Estimate],
        plain_value: Mapping[str, Estimate],
        options: Options,
    ) -> dict[str, object]:
        """The adjusted lift, interval and p-value beside the plain ones, and the variance reduction."""
        out: dict[str, object] = {}
        for prefix, adjusted, unadjusted in (
            ("cuped_", self.conversion, plain),
            ("cuped_revenue_", self.value, plain_value),
        ):
            if name not in adjusted or control not in adjusted:
                continue
            result = options.compare(adjusted[name], adjusted[control], prior=False)
            before = effect(unadjusted[name], unadjusted[control], options.scale)
            after = effect(adjusted[name], adjusted[control], options.scale)
            out[f"{prefix}lift"] = result.lift
            out[f"{prefix}lift_interval"] = _range(result.lift_interval)
            out[f"{prefix}p_value"] = result.p_value
            if before is not None and after is not None:
                out[f"{prefix}variance_reduction"] = 1 - (after.standard_error / before.standard_error) ** 2
        return out


def _cuped(rows: list[VariantTotals]) -> _Cuped | None:
    """From the kept totals' covariate sums; None when a variant has none (a time window's rows)."""
    if not rows or any(row.covariates is None for row in rows):
        return None
    conversion, value = {}, {}
    for row in rows:
        c = row.covariates
        assert c is not None
        conversion[row.variant] = Paired(
            _conversion(row), c.conversions, c.conversions_squares, c.conversions_x
        )
        value[row.variant] = Paired(_revenue(row), c.value, c.value_squares, c.value_x)
    return _Cuped(cuped(conversion), cuped(value))


def split_result(
    node_id: str,
    goal: str,
    control: str,
    weights: dict[str, float],
    rows: list[VariantTotals],
    options: Options,
    strata: Sequence[tuple[str | None, VariantTotals]] | None = None,
) -> SplitResult:
    """`strata`: an adaptive split's totals per allocation period (ReportRepository.by_allocation):
    then the variants are compared within periods and combined (post_stratified), and the
    sample-ratio check expects the weights in force in each period."""
    alpha = options.alpha
    adaptive = _Adaptive(strata, list(weights)) if strata is not None else None
    by_variant = {row.variant: row for row in rows}
    control_row = by_variant.get(control)
    adjusted = _cuped(rows) if options.cuped and adaptive is None else None
    variants: list[VariantResult] = []
    for name in list(weights) + [v for v in by_variant if v not in weights]:
        row = by_variant.get(name) or VariantTotals(node_id, name, 0, 0, 0.0, 0.0)
        conversion = _conversion(row)
        result = VariantResult(
            variant=name,
            is_control=name == control,
            weight=weights.get(name),
            exposures=row.exposures,
            conversions=row.conversions,
            conversion_rate=conversion.mean,
            conversion_rate_interval=_range(mean_interval(conversion, alpha)) if row.exposures else None,
            revenue=row.revenue,
            revenue_per_exposure=_revenue(row).mean,
        )
        if name != control and control_row is not None and row.exposures:
            estimates = (
                adaptive.conversion if adaptive else {name: conversion, control: _conversion(control_row)}
            )
            values = adaptive.revenue if adaptive else {name: _revenue(row), control: _revenue(control_row)}
            if name not in estimates or control not in estimates:
                variants.append(result)  # no allocation period with both: nothing to compare yet
                continue
            versus = options.compare(estimates[name], estimates[control])
            money = options.compare(values[name], values[control], prior=False)
            result = result.model_copy(
                update={
                    "lift": versus.lift,
                    "lift_interval": _range(versus.lift_interval),
                    "p_value": versus.p_value,
                    "chance_to_beat_control": versus.chance_to_beat_control,
                    "sequential_interval": _range(versus.sequential_interval),
                    "sequential_p_value": versus.sequential_p_value,
                    "revenue_lift": money.lift,
                    "revenue_lift_interval": _range(money.lift_interval),
                    "revenue_p_value": money.p_value,
                }
            )
            if adjusted is not None:
                result = result.model_copy(update=adjusted.compare(name, control, estimates, values, options))
        variants.append(result)
    if adaptive:
        srm = sample_ratio_mismatch(adaptive.counts, adaptive.expected)
    else:
        counts = [v.exposures for v in variants if v.weight is not None]
        srm = sample_ratio_mismatch(counts, [v.weight for v in variants if v.weight is not None])
    return SplitResult(
        node=node_id,
        goal=goal,
        control=control,
        scale=options.scale,
        adaptive=adaptive is not None,
        estimator=adaptive.estimator if adaptive else "pooled",
        variants=variants,
        srm_p_value=srm,
        srm_warning=srm is not None and srm < SRM_ALPHA,
        verdict="",
    )


def adjust(results: list[SplitResult]) -> None:
    """Holm and Benjamini–Hochberg across every variant × goal comparison in the report."""
    tested = [(r, v) for r in results for v in r.variants if v.p_value is not None]
    p_values = [v.p_value for _, v in tested if v.p_value is not None]
    for (_, variant), h, bh in zip(tested, holm(p_values), benjamini_hochberg(p_values), strict=True):
        variant.p_value_holm, variant.p_value_bh = h, bh
