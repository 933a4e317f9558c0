"""Variant statistics from sufficient statistics (n, Σy, Σy²), the way the open experimentation
engines (GrowthBook, Eppo) compute them, so a report over millions of exposures needs one SQL pass.

Every comparison is on one scale, named in the report: the relative lift (treatment mean / control mean
− 1, its variance by the delta method) by default, or the absolute difference of means. On that scale one
estimate and one standard error give everything: the interval (Student's t quantile, Welch–Satterthwaite
degrees of freedom), the two-sided p-value (the same t distribution), the chance to beat control (a
normal posterior, flat or N(0, τ²) prior) and the always-valid interval and p-value (asymptotic confidence
sequences, Waudby-Smith et al. 2023, with GrowthBook's tuning: ρ tightest at N* observations). So p < α
exactly when the interval excludes 0. Also: sample-ratio mismatch (χ² against the weights), Holm and
Benjamini–Hochberg adjustments. Distributions are SciPy's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from scipy import stats

from engine.stats.scale import Scale


@dataclass(frozen=True)
class Moments:
    n: int
    total: float  # Σy
    squares: float  # Σy²

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (n − 1 in the denominator)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))

    @property
    def variance_of_mean(self) -> float:
        return self.variance / self.n if self.n else math.inf


class Estimate(Protocol):
    """A variant's mean and its variance: Moments, or a Combined estimate over strata."""

    @property
    def n(self) -> int: ...
    @property
    def mean(self) -> float: ...
    @property
    def variance_of_mean(self) -> float: ...


@dataclass(frozen=True)
class Combined:
    n: int
    mean: float
    variance_of_mean: float


def post_stratified(strata: Sequence[Mapping[str, Moments]]) -> dict[str, Combined]:
    """Each variant's mean over strata (an adaptive split's allocation periods), each stratum weighted by
    its share of all exposures; the variances add with the squared weights. Within a stratum every
    variant had the same allocation, so allocation changes over time (and whatever else changed with
    time, like the season) do not bias the comparison, as pooling the exposures would. A stratum where
    some variant has fewer than 2 exposures cannot be compared within and is left out."""
    variants = set().union(*strata) if strata else set()
    usable = [s for s in strata if set(s) == variants and all(m.n >= 2 for m in s.values())]
    total = sum(m.n for s in usable for m in s.values())
    if not total:
        return {}
    out = {}
    for variant in variants:
        shares = [(sum(m.n for m in s.values()) / total, s[variant]) for s in usable]
        out[variant] = Combined(
            n=sum(m.n for _, m in shares),
            mean=sum(w * m.mean for w, m in shares),
            variance_of_mean=sum(w * w * m.variance_of_mean for w, m in shares),
        )
    return out


@dataclass(frozen=True)
class Paired:
    """A variant's metric y with its covariate x (each person's value of it before exposure): Σx, Σx², Σxy."""

    y: Moments
    x_total: float
    x_squares: float
    xy: float


def cuped(groups: Mapping[str, Paired]) -> dict[str, Combined] | None:
    """CUPED (Deng et al. 2013): each variant's mean of y − θ(x − x̄), with θ = Cov(x, y) / Var(x) and x̄
    pooled over all variants (one θ for all, so the adjustment adds no bias: x is measured before
    exposure), and the variance of y − θx. None when x does not vary (nothing to adjust by)."""
    n = sum(g.y.n for g in groups.values())
    if n < 3:
        return None
    sx = sum(g.x_total for g in groups.values())
    sy = sum(g.y.total for g in groups.values())
    var_x = (sum(g.x_squares for g in groups.values()) - sx * sx / n) / (n - 1)
    if var_x <= 0:
        return None
    theta = (sum(g.xy for g in groups.values()) - sx * sy / n) / (n - 1) / var_x
    mean_x = sx / n
    out = {}
    for name, g in groups.items():
        m = g.y.n
        if m < 2:
            continue
        var_xv = (g.x_squares - g.x_total**2 / m) / (m - 1)
        cov_v = (g.xy - g.x_total * g.y.total / m) / (m - 1)
        variance = max(0.0, g.y.variance - 2 * theta * cov_v + theta * theta * var_xv)
        out[name] = Combined(m, g.y.mean - theta * (g.x_total / m - mean_x), variance / m)
    return out


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def mean_interval(m: Estimate, alpha: float = 0.05) -> Interval:
    """A variant's own mean (a conversion rate, revenue per exposure): normal interval."""
    half = float(stats.norm.ppf(1 - alpha / 2)) * math.sqrt(m.variance_of_mean) if m.n else math.inf
    return Interval(m.mean - half, m.mean + half)


@dataclass(frozen=True)
class Effect:
    """Treatment against control on one scale: the estimate, its standard error, Welch's df."""

    estimate: float
    standard_error: float
    df: float


def effect(t: Estimate, c: Estimate, scale: Scale = "relative") -> Effect | None:
    """None when there is nothing to compare: fewer than two in a group, no variance, or (relative) a
    control mean of 0."""
    a, b = t.variance_of_mean, c.variance_of_mean
    if t.n < 2 or c.n < 2 or a + b == 0:
        return None
    df = (a + b) ** 2 / (a * a / (t.n - 1) + b * b / (c.n - 1))
    if scale == "absolute":
        return Effect(t.mean - c.mean, math.sqrt(a + b), df)
    if c.mean == 0:
        return None
    variance = a / c.mean**2 + t.mean**2 * b / c.mean**4
    if variance == 0:
        return None
    return Effect(t.mean / c.mean - 1, math.sqrt(variance), df)


@dataclass(frozen=True)
class Comparison:
    scale: Scale
    lift: float | None  # the estimate on `scale`: relative lift, or difference of means
    lift_interval: Interval | None
    difference: float  # treatment mean − control mean, whatever the scale
    p_value: float | None
    chance_to_beat_control: float | None
    sequential_interval: Interval | None  # always valid, on `scale`
    sequential_p_value: float | None


def interval(e: Effect, alpha: float = 0.05) -> Interval:
    half = float(stats.t.ppf(1 - alpha / 2, e.df)) * e.standard_error
    return Interval(e.estimate - half, e.estimate + half)


def p_value(e: Effect) -> float:
    return float(2 * stats.t.sf(abs(e.estimate) / e.standard_error, e.df))


def chance_to_beat(e: Effect, prior_sd: float | None = None) -> float:
    """P(treatment beats control) under a normal posterior on the effect's scale; `prior_sd` gives the
    effect a proper N(0, prior_sd²) prior (shrinking small samples toward no effect)."""
    mean, variance = e.estimate, e.standard_error**2
    if prior_sd is not None:
        prior = prior_sd**2
        mean, variance = mean * prior / (prior + variance), variance * prior / (prior + variance)
    return float(stats.norm.cdf(mean / math.sqrt(variance)))


def _rho(alpha: float, tuning: float) -> float:
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def confidence_sequence_half_width(variance_of_estimate: float, n: int, alpha: float, tuning: float) -> float:
    """Asymptotic confidence sequence half-width for an estimate with variance `variance_of_estimate` at
    total sample size `n` (valid at every n: peeking is allowed)."""
    sigma2 = variance_of_estimate * n  # per-observation variance
    rho2 = _rho(alpha, tuning) ** 2
    return math.sqrt(sigma2 * 2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))


def sequential_p_value(estimate: float, variance_of_estimate: float, n: int, tuning: float) -> float:
    """The smallest α at which the confidence sequence excludes 0 (bisection: width falls as α grows)."""
    if estimate == 0:
        return 1.0
    low, high = 1e-12, 1.0
    if confidence_sequence_half_width(variance_of_estimate, n, high - 1e-12, tuning) >= abs(estimate):
        return 1.0
    for _ in range(80):
        middle = math.sqrt(low * high)
        if confidence_sequence_half_width(variance_of_estimate, n, middle, tuning) < abs(estimate):
            high = middle
        else:
            low = middle
    return high


def compare(
    t: Estimate,
    c: Estimate,
    *,
    scale: Scale = "relative",
    alpha: float = 0.05,
    prior_sd: float | None = None,
    tuning: float = 5000,
) -> Comparison:
    e = effect(t, c, scale)
    if e is None:
        return Comparison(scale, None, None, t.mean - c.mean, None, None, None, None)
    variance, n = e.standard_error**2, t.n + c.n
    half = confidence_sequence_half_width(variance, n, alpha, tuning)
    return Comparison(
        scale=scale,
        lift=e.estimate,
        lift_interval=interval(e, alpha),
        difference=t.mean - c.mean,
        p_value=p_value(e),
        chance_to_beat_control=chance_to_beat(e, prior_sd),
        sequential_interval=Interval(e.estimate - half, e.estimate + half),
        sequential_p_value=sequential_p_value(e.estimate, variance, n, tuning),
    )


MIN_SRM_COUNT = 8  # below this per variant, χ² is not to be trusted: no verdict


def sample_ratio_mismatch(counts: Sequence[int], weights: Sequence[float]) -> float | None:
    """p-value of the χ² test of observed exposures against the weights; None if too few. For an
    adaptive split, `weights` are its expected exposures under the weights in force (expected_exposures)."""
    if len(counts) < 2 or min(counts) < MIN_SRM_COUNT:
        return None
    total, weight_sum = sum(counts), sum(weights)
    expected = [total * w / weight_sum for w in weights]
    statistic = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True) if e > 0)
    return float(stats.chi2.sf(statistic, len(counts) - 1))


def expected_exposures(
    variants: Sequence[str], periods: Sequence[tuple[int, Mapping[str, float]]]
) -> list[float]:
    """Each variant's expected exposures over allocation periods (their size, the weights in force)."""
    expected = [0.0] * len(variants)
    for size, weights in periods:
        total = sum(weights.get(v, 0.0) for v in variants)
        for i, variant in enumerate(variants):
            expected[i] += size * weights.get(variant, 0.0) / total if total else 0.0
    return expected


def holm(p_values: Sequence[float]) -> list[float]:
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for position, index in enumerate(order):
        rank = m - position
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = running
    return adjusted
