"""Every statistic against values computed independently (SciPy, or by hand)."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from engine.stats.experiments import (
    Moments,
    benjamini_hochberg,
    chance_to_beat,
    compare,
    confidence_sequence_half_width,
    delta_method_lift,
    holm,
    mean_interval,
    sample_ratio_mismatch,
    welch_p_value,
)


def moments(values: list[float]) -> Moments:
    return Moments(len(values), sum(values), sum(v * v for v in values))


def sample(seed: int, n: int, rate: float, revenue: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.expovariate(1 / revenue) if rng.random() < rate else 0.0 for _ in range(n)]


@pytest.mark.parametrize(
    ("n_t", "n_c", "rate_t", "rate_c"), [(500, 480, 0.12, 0.10), (40, 55, 0.3, 0.2), (5000, 5100, 0.05, 0.05)]
)
def test_welch_p_value_matches_scipy(n_t: int, n_c: int, rate_t: float, rate_c: float) -> None:
    treatment, control = sample(1, n_t, rate_t, 80), sample(2, n_c, rate_c, 80)
    expected = stats.ttest_ind(treatment, control, equal_var=False).pvalue
    assert welch_p_value(moments(treatment), moments(control)) == pytest.approx(expected, rel=1e-9)


def test_mean_and_variance_from_sufficient_statistics() -> None:
    values = sample(3, 300, 0.4, 50)
    m = moments(values)
    assert m.mean == pytest.approx(sum(values) / len(values))
    assert m.variance == pytest.approx(stats.tvar(values), rel=1e-9)
    interval = mean_interval(m)
    half = stats.norm.ppf(0.975) * stats.sem(values)
    assert interval.low == pytest.approx(m.mean - half)
    assert interval.high == pytest.approx(m.mean + half)


def test_conversion_rate_interval_for_a_binary_metric() -> None:
    m = Moments(n=1000, total=120, squares=120)  # 120 conversions: y ∈ {0, 1}
    interval = mean_interval(m)
    p = 0.12
    half = 1.959963984540054 * math.sqrt(p * (1 - p) * 1000 / 999 / 1000)
    assert interval.low == pytest.approx(p - half)
    assert interval.high == pytest.approx(p + half)


def test_relative_lift_delta_method_by_hand() -> None:
    t, c = Moments(1000, 130, 130), Moments(1000, 100, 100)
    lift = delta_method_lift(t, c)
    assert lift is not None
    value, interval = lift
    assert value == pytest.approx(0.3)
    var_t, var_c = 0.13 * 0.87 * 1000 / 999 / 1000, 0.10 * 0.90 * 1000 / 999 / 1000
    se = math.sqrt(var_t / 0.1**2 + 0.13**2 * var_c / 0.1**4)
    assert interval.low == pytest.approx(0.3 - stats.norm.ppf(0.975) * se)
    assert interval.high == pytest.approx(0.3 + stats.norm.ppf(0.975) * se)


def test_chance_to_beat_control_flat_and_proper_prior() -> None:
    t, c = Moments(2000, 260, 260), Moments(2000, 220, 220)
    sd = math.sqrt(t.variance_of_mean + c.variance_of_mean)
    assert chance_to_beat(t, c) == pytest.approx(stats.norm.cdf(0.02 / sd))
    tau = 0.01
    post_var = sd**2 * tau**2 / (sd**2 + tau**2)
    post_mean = 0.02 * tau**2 / (tau**2 + sd**2)
    assert chance_to_beat(t, c, prior_sd=tau) == pytest.approx(
        stats.norm.cdf(post_mean / math.sqrt(post_var))
    )
    shrunk, flat = chance_to_beat(t, c, prior_sd=tau), chance_to_beat(t, c)
    assert shrunk is not None
    assert flat is not None
    assert shrunk < flat  # shrunk toward no effect


def test_sequential_interval_formula_and_properties() -> None:
    t, c = Moments(3000, 390, 390), Moments(3000, 330, 330)
    result = compare(t, c, tuning=5000)
    variance = t.variance_of_mean + c.variance_of_mean
    n = 6000
    rho2 = (-2 * math.log(0.05) + math.log(-2 * math.log(0.05) + 1)) / 5000
    by_hand = math.sqrt(
        variance * n * 2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / 0.05)
    )
    assert confidence_sequence_half_width(variance, n, 0.05, 5000) == pytest.approx(by_hand)
    assert result.sequential_interval is not None
    fixed_half = stats.norm.ppf(0.975) * math.sqrt(variance)
    assert (
        result.sequential_interval.high - result.sequential_interval.low
    ) / 2 > fixed_half  # the price of peeking
    assert result.sequential_p_value is not None
    assert result.p_value is not None
    assert result.sequential_p_value >= result.p_value
    # Consistency: at α = the always-valid p-value, the sequence just touches 0.
    edge = confidence_sequence_half_width(variance, n, result.sequential_p_value, 5000)
    assert edge == pytest.approx(abs(result.difference), rel=1e-6)


def test_peeking_every_day_keeps_false_alarms_below_alpha() -> None:
    """A/A tests looked at 30 times each: the always-valid p-value rarely crosses 0.05; the fixed one does."""
    rng = random.Random(7)
    sequential_alarms = naive_alarms = 0
    for _ in range(200):
        a = b = Moments(0, 0, 0)
        seq = naive = False
        for _ in range(30):
            new_a = [1.0 if rng.random() < 0.1 else 0.0 for _ in range(100)]
            new_b = [1.0 if rng.random() < 0.1 else 0.0 for _ in range(100)]
            a = Moments(a.n + 100, a.total + sum(new_a), a.squares + sum(new_a))
            b = Moments(b.n + 100, b.total + sum(new_b), b.squares + sum(new_b))
            result = compare(a, b, tuning=3000)
            seq |= result.sequential_p_value is not None and result.sequential_p_value < 0.05
            naive |= result.p_value is not None and result.p_value < 0.05
        sequential_alarms += seq
        naive_alarms += naive
    assert sequential_alarms / 200 <= 0.05
    assert naive_alarms / 200 > 0.1  # why the sequential numbers exist


def test_sample_ratio_mismatch_matches_scipy_and_flags_60_40_as_50_50() -> None:
    assert sample_ratio_mismatch([510, 490], [50, 50]) == pytest.approx(stats.chisquare([510, 490]).pvalue)
    three = sample_ratio_mismatch([300, 340, 360], [1, 1, 1])
    assert three == pytest.approx(stats.chisquare([300, 340, 360]).pvalue)
    skewed = sample_ratio_mismatch([600, 400], [50, 50])
    assert skewed is not None
    assert skewed < 0.001
    assert sample_ratio_mismatch([6, 3], [50, 50]) is None  # too few for a verdict


def test_multiple_comparison_adjustments_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_thompson_weights_favour_the_better_variant_but_keep_the_floor() -> None:
    from engine.stats.thompson import thompson_weights

    weights = thompson_weights({"a": (1000, 100), "b": (1000, 150)}, floor_percent=10)
    assert sum(weights.values()) == pytest.approx(100)
    assert weights["a"] == pytest.approx(10, abs=0.5)  # b is better beyond doubt: a keeps only the floor
    even = thompson_weights({"a": (1000, 100), "b": (1000, 100)}, floor_percent=10)
    assert even["a"] == pytest.approx(50, abs=3)
    # The exact probability that b beats a, against SciPy's Beta distribution by numeric integration.
    close = thompson_weights({"a": (200, 20), "b": (200, 26)}, floor_percent=0, seed=3)
    grid = [i / 4000 for i in range(1, 4000)]
    pa, pb = stats.beta(21, 181), stats.beta(27, 175)
    p_b_best = sum(pb.pdf(x) * pa.cdf(x) for x in grid) / 4000
    assert close["b"] / 100 == pytest.approx(p_b_best, abs=0.015)
