"""Every statistic against values computed independently (SciPy, or by hand)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from engine.stats.experiments import (
    Moments,
    Paired,
    benjamini_hochberg,
    chance_to_beat,
    compare,
    confidence_sequence_half_width,
    cuped,
    effect,
    holm,
    mean_interval,
    sample_ratio_mismatch,
)
from engine.stats.scale import SCALES, Scale


def moments(values: list[float]) -> Moments:
    return Moments(len(values), sum(values), sum(v * v for v in values))


def sample(seed: int, n: int, rate: float, revenue: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.expovariate(1 / revenue) if rng.random() < rate else 0.0 for _ in range(n)]


@pytest.mark.parametrize(
    ("n_t", "n_c", "rate_t", "rate_c"), [(500, 480, 0.12, 0.10), (40, 55, 0.3, 0.2), (5000, 5100, 0.05, 0.05)]
)
def test_absolute_scale_is_welchs_t_test(n_t: int, n_c: int, rate_t: float, rate_c: float) -> None:
    treatment, control = sample(1, n_t, rate_t, 80), sample(2, n_c, rate_c, 80)
    expected = stats.ttest_ind(treatment, control, equal_var=False)
    result = compare(moments(treatment), moments(control), scale="absolute")
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    low, high = expected.confidence_interval(0.95)
    assert result.lift_interval is not None
    assert (result.lift_interval.low, result.lift_interval.high) == pytest.approx((low, high), rel=1e-9)


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


def test_relative_scale_by_hand_delta_method_student_t() -> None:
    """Estimate, interval, p-value and chance to beat all from one delta-method estimate and its standard
    error, with Student's t at Welch–Satterthwaite degrees of freedom (small samples differ visibly
    from the normal quantile)."""
    t, c = Moments(60, 13, 13), Moments(50, 6, 6)
    result = compare(t, c)
    mt, mc = 13 / 60, 6 / 50
    a, b = mt * (1 - mt) * 60 / 59 / 60, mc * (1 - mc) * 50 / 49 / 50
    se = math.sqrt(a / mc**2 + mt**2 * b / mc**4)
    df = (a + b) ** 2 / (a * a / 59 + b * b / 49)
    lift = mt / mc - 1
    assert result.scale == "relative"
    assert result.lift == pytest.approx(lift)
    assert result.lift_interval is not None
    half = stats.t.ppf(0.975, df) * se
    assert (result.lift_interval.low, result.lift_interval.high) == pytest.approx((lift - half, lift + half))
    assert half > stats.norm.ppf(0.975) * se  # the t quantile, not the normal one
    assert result.p_value == pytest.approx(2 * stats.t.sf(lift / se, df))
    assert result.chance_to_beat_control == pytest.approx(stats.norm.cdf(lift / se))


def test_chance_to_beat_control_flat_and_proper_prior() -> None:
    t, c = Moments(2000, 260, 260), Moments(2000, 220, 220)
    e = effect(t, c, "absolute")
    assert e is not None
    sd = e.standard_error
    assert chance_to_beat(e) == pytest.approx(stats.norm.cdf(0.02 / sd))
    tau = 0.01
    post_var = sd**2 * tau**2 / (sd**2 + tau**2)
    post_mean = 0.02 * tau**2 / (tau**2 + sd**2)
    assert chance_to_beat(e, prior_sd=tau) == pytest.approx(stats.norm.cdf(post_mean / math.sqrt(post_var)))
    assert chance_to_beat(e, prior_sd=tau) < chance_to_beat(e)  # shrunk toward no effect


@settings(max_examples=400, deadline=None)
@given(
    n_t=st.integers(2, 100_000),
    n_c=st.integers(2, 100_000),
    rate_t=st.floats(0.001, 0.999),
    rate_c=st.floats(0.001, 0.999),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    scale=st.sampled_from(SCALES),
)
def test_p_below_alpha_exactly_when_the_interval_excludes_zero(
    n_t: int, n_c: int, rate_t: float, rate_c: float, alpha: float, scale: Scale
) -> None:
    t = Moments(n_t, round(n_t * rate_t), round(n_t * rate_t))
    c = Moments(n_c, round(n_c * rate_c), round(n_c * rate_c))
    result = compare(t, c, scale=scale, alpha=alpha)
    if result.p_value is None:
        return
    assert result.lift_interval is not None
    assert result.sequential_interval is not None
    assert result.sequential_p_value is not None
    excludes = not result.lift_interval.low <= 0 <= result.lift_interval.high
    if abs(result.p_value - alpha) > 1e-9:  # at the boundary itself, rounding decides
        assert (result.p_value < alpha) == excludes
    sequential_excludes = not result.sequential_interval.low <= 0 <= result.sequential_interval.high
    if abs(result.sequential_p_value - alpha) > 1e-6:
        assert (result.sequential_p_value < alpha) == sequential_excludes
    # The estimate and its chance to beat point the same way.
    if result.chance_to_beat_control is not None and result.lift:
        assert (result.chance_to_beat_control > 0.5) == (result.lift > 0)


@pytest.mark.parametrize("scale", SCALES)
def test_a_a_tests_raise_false_alarms_at_most_alpha(scale: Scale) -> None:
    """2,000 A/A experiments (no true difference): each test's false-positive rate stays at α."""
    trials, n = 2000, 1000
    counts = np.random.default_rng(11).binomial(n, 0.1, size=(trials, 2))
    alarms = 0
    for a, b in counts.tolist():
        result = compare(Moments(n, a, a), Moments(n, b, b), scale=scale)
        alarms += result.p_value is not None and result.p_value < 0.05
    assert alarms / trials <= 0.05 + 2.5 * math.sqrt(0.05 * 0.95 / trials)


def test_sequential_interval_formula_and_properties() -> None:
    t, c = Moments(3000, 390, 390), Moments(3000, 330, 330)
    result = compare(t, c, scale="absolute", tuning=5000)
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
    relative = compare(t, c, tuning=5000)  # the same, on the relative scale
    assert relative.sequential_interval is not None
    assert relative.lift is not None
    assert relative.sequential_interval.low < relative.lift < relative.sequential_interval.high


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


def _paired(x: np.ndarray, y: np.ndarray) -> Paired:
    return Paired(
        Moments(len(y), float(y.sum()), float((y * y).sum())),
        float(x.sum()),
        float((x * x).sum()),
        float((x * y).sum()),
    )


def test_cuped_narrows_the_interval_by_the_square_root_of_one_minus_rho_squared_and_keeps_coverage() -> None:
    """y correlated with its pre-exposure value x at ρ = 0.7: the adjusted interval is √(1 − ρ²) ≈ 0.71 times
    as wide, and over 400 experiments it still covers the true effect 95% of the time."""
    rho, delta, n = 0.7, 0.05, 4000
    rng = np.random.default_rng(3)
    covered = 0
    ratios = []
    trials = 400
    for _ in range(trials):
        arms = {}
        for name, shift in (("control", 0.0), ("treatment", delta)):
            x = rng.normal(0, 1, n)
            y = rho * x + math.sqrt(1 - rho * rho) * rng.normal(0, 1, n) + shift
            arms[name] = _paired(x, y)
        adjusted = cuped(arms)
        assert adjusted is not None
        plain = compare(arms["treatment"].y, arms["control"].y, scale="absolute")
        result = compare(adjusted["treatment"], adjusted["control"], scale="absolute")
        assert plain.lift_interval is not None
        assert result.lift_interval is not None
        ratios.append(
            (result.lift_interval.high - result.lift_interval.low)
            / (plain.lift_interval.high - plain.lift_interval.low)
        )
        covered += result.lift_interval.low <= delta <= result.lift_interval.high
    assert float(np.median(ratios)) == pytest.approx(math.sqrt(1 - rho * rho), rel=0.03)
    assert covered / trials >= 0.95 - 2.5 * math.sqrt(0.05 * 0.95 / trials)


def test_cuped_with_a_covariate_that_does_not_vary_adjusts_nothing() -> None:
    y = np.array([0.0, 1.0, 0.0, 1.0])
    assert cuped({"a": _paired(np.zeros(4), y), "b": _paired(np.zeros(4), y)}) is None
