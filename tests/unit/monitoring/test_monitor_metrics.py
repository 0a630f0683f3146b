"""Each metric against values computed independently here: scipy called directly, or small cases worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from mlops.monitoring.kinds import alert_direction
from mlops.monitoring.metrics import (
    CATEGORICAL,
    NUMERICAL,
    ReferenceProfile,
    SortedPair,
    bin_count,
    bin_edges,
    categorical_drift,
    chi_squared_pvalue,
    data_quality,
    histogram_of_sorted,
    infer_column_type,
    numerical_drift,
)
from mlops.monitoring.results import ABOVE, BELOW, breaches


@pytest.mark.parametrize(
    ("n", "k"),
    [(1, 1), (2, 2), (3, 3), (4, 3), (1000, 11), (1024, 11), (1025, 12), (2000, 12), (10_000, 15), (1_000_000, 21)],
)
def test_bin_count_is_ceil_log2_n_plus_1(n: int, k: int) -> None:
    assert bin_count(n) == k == math.ceil(math.log2(n) + 1)


def test_bins_are_equal_width_over_the_combined_range_and_use_the_smaller_row_count() -> None:
    ref = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])  # 8 rows
    prod = np.array([2.0, 10.0, 3.0, 4.0])  # 4 rows -> k = ceil(log2(4) + 1) = 3
    result = numerical_drift(ref, prod)
    np.testing.assert_allclose(result.distribution.edges, [0.0, 10 / 3, 20 / 3, 10.0])
    assert result.reference_rows == 8 and result.production_rows == 4


def test_min_equal_max_gives_one_bin() -> None:
    assert bin_edges(5.0, 5.0, 1000).tolist() == [5.0, 5.0]
    result = numerical_drift(np.full(50, 5.0), np.full(20, 5.0))
    assert len(result.distribution.labels) == 1
    assert any("one bin" in note for note in result.notes)
    assert result.values["jensen_shannon_distance"] == 0.0
    # Azure's +1 smoothing over the original row count: same distribution, different sizes -> a small PSI
    p, q = 21 / 20, 51 / 50
    assert result.values["population_stability_index"] == pytest.approx((p - q) * math.log(p / q), rel=1e-12)


def test_histogram_of_sorted_equals_numpy_histogram() -> None:
    rng = np.random.default_rng(3)
    values = np.sort(np.concatenate([rng.normal(size=5000).round(1), [-4.0, 4.0]]))
    edges = np.linspace(values[0], values[-1], 14)
    expected, _ = np.histogram(values, bins=edges)
    assert histogram_of_sorted(values, edges).tolist() == expected.tolist()


# ---------------------------------------------------------------------------------------------------------------
# Identical and disjoint distributions


def test_identical_numerical_samples_have_zero_distance_and_p_one() -> None:
    values = np.random.default_rng(0).normal(size=3000)
    result = numerical_drift(values, values.copy())
    assert result.values["jensen_shannon_distance"] == pytest.approx(0.0, abs=1e-12)
    assert result.values["population_stability_index"] == pytest.approx(0.0, abs=1e-12)
    assert result.values["normalized_wasserstein_distance"] == pytest.approx(0.0, abs=1e-12)
    assert result.values["two_sample_kolmogorov_smirnov_test"] == pytest.approx(1.0)


def test_identical_categorical_samples_have_zero_distance_and_p_one() -> None:
    values = np.array(["a"] * 30 + ["b"] * 50 + ["c"] * 20, dtype=object)
    result = categorical_drift(values, values.copy())
    assert result.values["jensen_shannon_distance"] == pytest.approx(0.0, abs=1e-12)
    assert result.values["population_stability_index"] == pytest.approx(0.0, abs=1e-12)
    assert result.values["pearsons_chi_squared_test"] == pytest.approx(1.0)


def test_disjoint_supports_are_maximally_distant() -> None:
    rng = np.random.default_rng(1)
    numerical = numerical_drift(rng.uniform(0, 1, 500), rng.uniform(10, 11, 500))
    assert numerical.values["jensen_shannon_distance"] == pytest.approx(1.0, abs=1e-12)
    assert numerical.values["two_sample_kolmogorov_smirnov_test"] < 1e-100
    categorical = categorical_drift(np.array(["a", "b"] * 50, dtype=object), np.array(["c", "d"] * 50, dtype=object))
    assert categorical.values["jensen_shannon_distance"] == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Hand-computed cases


def test_jensen_shannon_distance_by_hand_base_2() -> None:
    # p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4)
    p_part = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    q_part = 1.0 * math.log2(1 / 0.75)
    expected = math.sqrt((p_part + q_part) / 2)
    result = categorical_drift(np.array(["a", "a", "b", "b"], dtype=object), np.array(["a"] * 4, dtype=object))
    assert result.values["jensen_shannon_distance"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.5579, abs=1e-4)


def test_psi_smoothing_adds_one_per_category_and_divides_by_the_original_rows() -> None:
    # reference a,a,a,b -> (3+1)/4, (1+1)/4 = 1, 0.5; production a,b,b,b -> 0.5, 1
    # PSI = (0.5 - 1) ln(0.5 / 1) + (1 - 0.5) ln(1 / 0.5) = ln 2
    result = categorical_drift(np.array(list("aaab"), dtype=object), np.array(list("abbb"), dtype=object))
    assert result.values["population_stability_index"] == pytest.approx(math.log(2), rel=1e-12)


def test_psi_on_bins_with_an_empty_bin_stays_finite() -> None:
    # 2 rows each -> k = 2 bins over 0..3: reference both in the low bin, production both in the high bin
    # p_ref = (2+1)/2, (0+1)/2; p_prod = (0+1)/2, (2+1)/2 -> PSI = 2 * (1.5 - 0.5) ln 3
    result = numerical_drift(np.array([0.0, 1.0]), np.array([2.5, 3.0]))
    assert result.values["population_stability_index"] == pytest.approx(2 * math.log(3), rel=1e-12)


def test_normalized_wasserstein_by_hand_and_the_std_floor() -> None:
    # reference 0, 2 (sample std sqrt(2)); production shifted by 1 -> W = 1
    result = numerical_drift(np.array([0.0, 2.0]), np.array([1.0, 3.0]))
    assert result.values["normalized_wasserstein_distance"] == pytest.approx(1 / math.sqrt(2), rel=1e-12)
    constant = numerical_drift(np.full(10, 5.0), np.full(10, 6.0))
    assert constant.values["normalized_wasserstein_distance"] == pytest.approx(1.0 / 0.001, rel=1e-12)
    assert any("floor" in note for note in constant.notes)


# ---------------------------------------------------------------------------------------------------------------
# Sorted-merge Wasserstein and KS against scipy


SAMPLES = [
    # (seed, reference size, production size, decimals for ties or None)
    (0, 20_000, 15_000, None),
    (1, 12_000, 30_000, 1),
    (2, 11_000, 11_000, 0),
    (3, 500, 300, None),
    (4, 2_000, 10_000, 1),
    (5, 1, 7, None),
]


@pytest.mark.parametrize(("seed", "n_ref", "n_prod", "decimals"), SAMPLES)
def test_sorted_merge_wasserstein_and_ks_equal_scipy(seed: int, n_ref: int, n_prod: int, decimals: int | None) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.normal(0, 1, n_ref)
    prod = rng.normal(0.05, 1.1, n_prod)
    if decimals is not None:
        ref, prod = ref.round(decimals), prod.round(decimals)
    pair = SortedPair.of(np.sort(ref), np.sort(prod))
    assert pair.wasserstein() == pytest.approx(stats.wasserstein_distance(ref, prod), rel=1e-12, abs=1e-15)
    expected = stats.ks_2samp(ref, prod)
    assert pair.ks_statistic() == pytest.approx(expected.statistic, rel=1e-12, abs=1e-15)
    assert pair.ks_pvalue() == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)


def test_numerical_drift_equals_scipy_called_directly() -> None:
    rng = np.random.default_rng(7)
    ref, prod = rng.gamma(2.0, 3.0, 12_000), rng.gamma(2.2, 3.0, 4_000)
    result = numerical_drift(ref, prod).values
    edges = np.linspace(min(ref.min(), prod.min()), max(ref.max(), prod.max()), math.ceil(math.log2(4000) + 1) + 1)
    ref_counts, _ = np.histogram(ref, bins=edges)
    prod_counts, _ = np.histogram(prod, bins=edges)
    js = distance.jensenshannon(ref_counts / ref.size, prod_counts / prod.size, base=2)
    p, q = (prod_counts + 1) / prod.size, (ref_counts + 1) / ref.size
    assert result["jensen_shannon_distance"] == pytest.approx(js, rel=1e-12)
    assert result["population_stability_index"] == pytest.approx(np.sum((p - q) * np.log(p / q)), rel=1e-12)
    wasserstein = stats.wasserstein_distance(ref, prod) / max(np.std(ref, ddof=1), 0.001)
    assert result["normalized_wasserstein_distance"] == pytest.approx(wasserstein, rel=1e-12)
    assert result["two_sample_kolmogorov_smirnov_test"] == pytest.approx(stats.ks_2samp(ref, prod).pvalue, rel=1e-12)


def test_chi_squared_equals_scipy_chisquare_on_production_counts() -> None:
    ref = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 200, dtype=object)
    prod = np.array(["a"] * 90 + ["b"] * 70 + ["c"] * 40, dtype=object)
    expected = stats.chisquare([90, 70, 40], np.array([0.5, 0.3, 0.2]) * 200).pvalue
    assert categorical_drift(ref, prod).values["pearsons_chi_squared_test"] == pytest.approx(expected, rel=1e-12)
    assert chi_squared_pvalue(np.array([10]), np.array([4])) == 1.0  # one category in all: nothing can differ


def test_unseen_category_gets_a_defined_value_and_is_flagged() -> None:
    ref = np.array(["a"] * 50 + ["b"] * 50, dtype=object)
    prod = np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 20, dtype=object)
    result = categorical_drift(ref, prod)
    assert result.unseen_categories == ["c"]
    assert any("not in the reference" in note for note in result.notes)
    baseline = np.array([50, 50, 0.5])
    expected = stats.chisquare([40, 40, 20], baseline / baseline.sum() * 100).pvalue
    assert result.values["pearsons_chi_squared_test"] == pytest.approx(expected, rel=1e-12)
    assert all(math.isfinite(v) for v in result.values.values())
    js = distance.jensenshannon([0.5, 0.5, 0.0], [0.4, 0.4, 0.2], base=2)
    assert result.values["jensen_shannon_distance"] == pytest.approx(js, rel=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Column typing and data quality


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([0, 1, 2] * 34), CATEGORICAL),  # 3 distinct / 102 rows < 0.05
        (pd.Series(list(range(100))), NUMERICAL),
        (pd.Series([i % 5 for i in range(100)]), NUMERICAL),  # 5 / 100 = 0.05 is not < 0.05
        (pd.Series([i % 4 for i in range(100)]), CATEGORICAL),
        (pd.Series([0.5, 1.0, 1.0] * 40), NUMERICAL),  # floats are numerical however few values
        (pd.Series(["x", "y"] * 50), CATEGORICAL),
        (pd.Series([True, False] * 50), CATEGORICAL),
        (pd.Series(pd.date_range("2026-01-01", periods=100)), CATEGORICAL),
    ],
)
def test_column_typing_rule(values: pd.Series, expected: str) -> None:
    assert infer_column_type(values) == expected


def test_data_quality_counts_each_bad_row_once() -> None:
    profile = ReferenceProfile.of(pd.Series([1.0, 5.0, 3.0], name="x"))
    production = pd.Series(["2", None, "oops", "9", "4.5", "1"], name="x", dtype=object)
    quality = data_quality(production, profile)
    assert (quality.nulls, quality.type_errors, quality.out_of_bounds) == (1, 1, 1)
    assert quality.values == {"null_value_rate": 1 / 6, "data_type_error_rate": 1 / 6, "out_of_bounds_rate": 1 / 6}


def test_data_quality_types_are_inferred_from_the_reference() -> None:
    integers = ReferenceProfile.of(pd.Series(list(range(100)), name="n"))
    assert data_quality(pd.Series([1.0, 2.5, np.nan, 3.0]), integers).type_errors == 1  # 2.5 is not an integer
    strings = ReferenceProfile.of(pd.Series(["low", "high"] * 10, name="level"))
    assert data_quality(pd.Series([1, 2, 3]), strings).type_errors == 3
    assert data_quality(pd.Series(["low", 7, "mid"], dtype=object), strings).type_errors == 1
    out = data_quality(pd.Series(["low", "mid", "mid", None]), strings)
    assert (out.nulls, out.type_errors, out.out_of_bounds) == (1, 0, 2)  # "mid" never seen in the reference


def test_all_null_production_column_is_a_quality_breach_only() -> None:
    profile = ReferenceProfile.of(pd.Series([1.0, 2.0, 3.0], name="x"))
    quality = data_quality(pd.Series([np.nan] * 4), profile)
    assert quality.values["null_value_rate"] == 1.0


# ---------------------------------------------------------------------------------------------------------------
# Alert direction


@pytest.mark.parametrize(
    ("metric", "value", "threshold", "breached"),
    [
        ("two_sample_kolmogorov_smirnov_test", 0.001, 0.01, True),
        ("two_sample_kolmogorov_smirnov_test", 0.5, 0.01, False),
        ("pearsons_chi_squared_test", 0.009, 0.01, True),
        ("normalized_discounted_cumulative_gain", 0.85, 0.9, True),
        ("normalized_discounted_cumulative_gain", 0.95, 0.9, False),
        ("accuracy", 0.6, 0.7, True),
        ("recall", 0.8, 0.45, False),
        ("jensen_shannon_distance", 0.2, 0.1, True),
        ("jensen_shannon_distance", 0.05, 0.1, False),
        ("normalized_wasserstein_distance", 0.1, 0.1, False),  # equal does not breach
        ("null_value_rate", 0.01, 0.0, True),
        ("mae", 3.0, 2.0, True),
        ("jensen_shannon_distance", None, 0.1, False),  # not computable never breaches
        ("jensen_shannon_distance", 0.9, None, False),  # no threshold: reported only
    ],
)
def test_alert_direction(metric: str, value: float | None, threshold: float | None, breached: bool) -> None:
    assert breaches(value, threshold, alert_direction(metric)) is breached


def test_direction_names() -> None:
    assert alert_direction("two_sample_kolmogorov_smirnov_test") == BELOW
    assert alert_direction("normalized_discounted_cumulative_gain") == BELOW
    assert alert_direction("population_stability_index") == ABOVE


def test_integer_coded_categories_compare_as_numbers() -> None:
    reference = pd.Series([0, 1, 2] * 40, name="level")  # integer, 3 distinct / 120 rows -> categorical
    profile = ReferenceProfile.of(reference)
    assert profile.column_type == CATEGORICAL and profile.categories == frozenset({0, 1, 2})
    production = pd.Series([0.0, 1.0, 2.0, 3.0, np.nan])  # floats because of the null; 3 was never seen
    quality = data_quality(production, profile)
    assert (quality.nulls, quality.type_errors, quality.out_of_bounds) == (1, 0, 1)
    result = categorical_drift(reference.astype("float64").to_numpy(), production.dropna().to_numpy())
    assert result.unseen_categories == [3]
    assert result.distribution.labels == [0, 1, 2, 3]
