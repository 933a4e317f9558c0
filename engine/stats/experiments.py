"""Variant statistics from sufficient statistics (n, Σy, Σy²), the way the open experimentation
engines (GrowthBook, Eppo) compute them, so a report over millions of exposures needs one SQL pass.

- rates and means with normal intervals; relative lift with a delta-method interval;
- Welch's t-test (Welch–Satterthwaite degrees of freedom);
- Bayesian chance to beat control: normal posterior of the difference, flat or N(0, τ²) prior;
- always-valid intervals and p-values (asymptotic confidence sequences, Waudby-Smith et al. 2023,
  with GrowthBook's tuning: ρ chosen to be tightest at N* observations);
- sample-ratio mismatch (χ² against the configured weights); Holm and Benjamini–Hochberg adjustments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.stats.distributions import chi2_sf, normal_cdf, normal_ppf, t_sf_two_sided


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


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def mean_interval(m: Moments, alpha: float = 0.05) -> Interval:
    half = normal_ppf(1 - alpha / 2) * math.sqrt(m.variance_of_mean) if m.n else math.inf
    return Interval(m.mean - half, m.mean + half)


@dataclass(frozen=True)
class Comparison:
    lift: float | None  # relative: treatment mean / control mean − 1
    lift_interval: Interval | None
    difference: float
    p_value: float | None
    chance_to_beat_control: float | None
    sequential_interval: Interval | None  # always valid, for the difference in means
    sequential_p_value: float | None


def delta_method_lift(t: Moments, c: Moments, alpha: float = 0.05) -> tuple[float, Interval] | None:
    if c.mean == 0 or t.n < 2 or c.n < 2:
        return None
    lift = t.mean / c.mean - 1
    variance = t.variance_of_mean / c.mean**2 + t.mean**2 * c.variance_of_mean / c.mean**4
    half = normal_ppf(1 - alpha / 2) * math.sqrt(variance)
    return lift, Interval(lift - half, lift + half)


def welch_p_value(t: Moments, c: Moments) -> float | None:
    a, b = t.variance_of_mean, c.variance_of_mean
    if t.n < 2 or c.n < 2 or a + b == 0:
        return None
    statistic = (t.mean - c.mean) / math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (t.n - 1) + b * b / (c.n - 1))
    return t_sf_two_sided(statistic, df)


def chance_to_beat(t: Moments, c: Moments, prior_sd: float | None = None) -> float | None:
    """P(treatment mean > control mean) under a normal posterior; `prior_sd` gives the difference a
    proper N(0, prior_sd²) prior (shrinking small samples toward no effect)."""
    variance = t.variance_of_mean + c.variance_of_mean
    if t.n < 2 or c.n < 2 or variance == 0:
        return None
    mean = t.mean - c.mean
    if prior_sd is not None:
        prior = prior_sd**2
        mean, variance = mean * prior / (prior + variance), variance * prior / (prior + variance)
    return normal_cdf(mean / math.sqrt(variance))


def _rho(alpha: float, tuning: float) -> float:
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def confidence_sequence_half_width(
    variance_of_difference: float, n: int, alpha: float, tuning: float
) -> float:
    """Asymptotic confidence sequence half-width for a difference whose estimator has variance
    `variance_of_difference` at total sample size `n` (valid at every n: peeking is allowed)."""
    sigma2 = variance_of_difference * n  # per-observation variance
    rho2 = _rho(alpha, tuning) ** 2
    return math.sqrt(sigma2 * 2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))


def sequential_p_value(difference: float, variance_of_difference: float, n: int, tuning: float) -> float:
    """The smallest α at which the confidence sequence excludes 0 (bisection: width falls as α grows)."""
    if difference == 0:
        return 1.0
    low, high = 1e-12, 1.0
    if confidence_sequence_half_width(variance_of_difference, n, high - 1e-12, tuning) >= abs(difference):
        return 1.0
    for _ in range(80):
        middle = math.sqrt(low * high)
        if confidence_sequence_half_width(variance_of_difference, n, middle, tuning) < abs(difference):
            high = middle
        else:
            low = middle
    return high


def compare(
    t: Moments, c: Moments, *, alpha: float = 0.05, prior_sd: float | None = None, tuning: float = 5000
) -> Comparison:
    lift = delta_method_lift(t, c, alpha)
    variance = t.variance_of_mean + c.variance_of_mean
    n = t.n + c.n
    sequential = None
    sequential_p = None
    if t.n >= 2 and c.n >= 2 and variance > 0:
        half = confidence_sequence_half_width(variance, n, alpha, tuning)
        difference = t.mean - c.mean
        sequential = Interval(difference - half, difference + half)
        sequential_p = sequential_p_value(difference, variance, n, tuning)
    return Comparison(
        lift=lift[0] if lift else None,
        lift_interval=lift[1] if lift else None,
        difference=t.mean - c.mean,
        p_value=welch_p_value(t, c),
        chance_to_beat_control=chance_to_beat(t, c, prior_sd),
        sequential_interval=sequential,
        sequential_p_value=sequential_p,
    )


MIN_SRM_COUNT = 8  # below this per variant, χ² is not to be trusted: no verdict


def sample_ratio_mismatch(counts: Sequence[int], weights: Sequence[float]) -> float | None:
    """p-value of the χ² test of observed exposures against configured weights; None if too few."""
    if len(counts) < 2 or min(counts) < MIN_SRM_COUNT:
        return None
    total, weight_sum = sum(counts), sum(weights)
    expected = [total * w / weight_sum for w in weights]
    statistic = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True) if e > 0)
    return chi2_sf(statistic, len(counts) - 1)


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
