"""Azure ML model-monitoring metrics, computed the way Azure defines them (monitoring/README.md lists every rule).

Pure numpy/pandas/scipy. The functions here work on one column at a time:

- `infer_column_type` — Azure's typing rule, decided on the reference data;
- `numerical_drift` / `categorical_drift` — every drift metric for one feature, nulls already dropped;
- `data_quality` — null, data-type-error and out-of-bounds rates of one production column against a
  `ReferenceProfile` built from the reference column.

Speed: a numerical column is sorted once per data set; Wasserstein, Kolmogorov-Smirnov and the histogram all come
from the two sorted arrays (merged in linear time), with the same arithmetic as scipy, so the values equal
`scipy.stats.wasserstein_distance` and `scipy.stats.ks_2samp` (tests check both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
COLUMN_TYPES = (NUMERICAL, CATEGORICAL)

# Integers are categorical when distinct values / rows is below this ratio (on the reference data).
INTEGER_CATEGORICAL_RATIO = 0.05
# Normalized Wasserstein divides by max(sample std of the baseline, STD_FLOOR).
STD_FLOOR = 0.001
# scipy's ks_2samp computes the exact p-value up to this sample size (method="auto"), the asymptotic one above.
KS_EXACT_MAX_N = 10_000
# Pseudo-count given to a production category the baseline never saw, for the chi-squared expected counts only.
UNSEEN_CATEGORY_PSEUDO_COUNT = 0.5

# Value kinds used for the data-type check; decided on the reference column.
FLOAT, INTEGER, STRING, BOOLEAN, DATETIME = "float", "integer", "string", "boolean", "datetime"


# ---------------------------------------------------------------------------------------------------------------
# Column typing


def value_kind(values: pd.Series) -> str:
    """The kind of values a column holds, from its dtype: float, integer, boolean, datetime or string."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return FLOAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    return STRING


def infer_column_type(values: pd.Series) -> str:
    """Azure's rule: floats numerical; strings, booleans, dates categorical; integers categorical when
    distinct non-null values / rows < 0.05, else numerical. Call it on the reference column."""
    kind = value_kind(values)
    if kind == FLOAT:
        return NUMERICAL
    if kind == INTEGER:
        rows = len(values)
        if rows == 0:
            return CATEGORICAL
        return CATEGORICAL if values.nunique(dropna=True) / rows < INTEGER_CATEGORICAL_RATIO else NUMERICAL
    return CATEGORICAL


# ---------------------------------------------------------------------------------------------------------------
# Preparing one column (nulls dropped per column)


def numeric_array(values: pd.Series) -> np.ndarray:
    """Finite float64 values of a column; nulls, non-numeric strings and ±inf are dropped."""
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        values = values.astype("float64") if pd.api.types.is_bool_dtype(values.dtype) else to_numbers(values)
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    return array[np.isfinite(array)]


def to_numbers(values: pd.Series) -> pd.Series:
    """A column of any values as numbers: text that is not a number, and booleans mixed in with other values (a
    JSON `true` where numbers were sent), become null; so do values of any other type."""
    if values.dtype == object:
        numbers = np.fromiter(
            (isinstance(v, int | float | str | np.number) and not isinstance(v, bool) for v in values.to_numpy()),
            dtype=bool,
            count=len(values),
        )
        values = values.where(numbers)
    return pd.to_numeric(values, errors="coerce")


def categorical_values(values: pd.Series, numeric_codes: bool) -> pd.Series:
    """Non-null category values: float64 when the reference column is numeric (integer codes), else strings.

    Stays a pandas Series: counting (value_counts) and membership (isin) are hash-based, no per-row Python.
    """
    if numeric_codes:
        return pd.Series(numeric_array(values), copy=False)
    present = values.dropna()
    if not isinstance(present.dtype, pd.StringDtype):
        present = present.astype(str)
    return present


# ---------------------------------------------------------------------------------------------------------------
# Binning


def bin_count(n: int) -> int:
    """k = ceil(log2(n) + 1), n = the smaller of the two row counts (after nulls are dropped)."""
    if n < 1:
        raise ValueError("bin_count needs at least one row")
    return math.ceil(math.log2(n) + 1)


def bin_edges(low: float, high: float, n: int) -> np.ndarray:
    """Equal-width edges over the combined min..max of both data sets; one bin when min == max."""
    if low == high:
        return np.array([low, high], dtype="float64")
    return np.linspace(low, high, bin_count(n) + 1)


def histogram_of_sorted(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of already sorted values, with np.histogram's rule (bins half-open, the last one closed).

    Values must lie within edges[0]..edges[-1] (they do: the edges span the combined min..max).
    """
    inner = np.searchsorted(sorted_values, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], inner, [sorted_values.size]))).astype("int64")


# ---------------------------------------------------------------------------------------------------------------
# Distances on proportions


def jensen_shannon_distance(reference_proportions: np.ndarray, production_proportions: np.ndarray) -> float:
    """scipy's Jensen-Shannon distance with base 2 (in [0, 1])."""
    value = float(distance.jensenshannon(reference_proportions, production_proportions, base=2))
    if math.isnan(value):
        # jensenshannon takes the square root of a sum that rounding can leave at -1e-17 for equal inputs
        return 0.0
    return value


def population_stability_index(
    reference_counts: np.ndarray, production_counts: np.ndarray, reference_rows: int, production_rows: int
) -> float:
    """PSI with +1 smoothing: p = (count + 1) / original rows per bin or category; PSI = Σ (p − q)·ln(p / q)."""
    p = (np.asarray(production_counts, dtype="float64") + 1.0) / production_rows
    q = (np.asarray(reference_counts, dtype="float64") + 1.0) / reference_rows
    return float(np.sum((p - q) * np.log(p / q)))


# ---------------------------------------------------------------------------------------------------------------
# Sorted-merge Wasserstein and Kolmogorov-Smirnov


def merge_sorted(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted arrays (ties: `first` before `second`); returns the merged values and a mask of the
    positions that came from `first`."""
    n_first, n_second = first.size, second.size
    from_first_at = np.arange(n_first) + np.searchsorted(second, first, side="left")
    from_first = np.zeros(n_first + n_second, dtype=bool)
    from_first[from_first_at] = True
    merged = np.empty(n_first + n_second, dtype="float64")
    merged[from_first_at] = first
    merged[~from_first] = second  # the remaining positions, in order
    return merged, from_first


class SortedPair:
    """Two sorted samples merged once: Wasserstein and KS both come from the difference of the empirical CDFs.

    `cdf_difference[i]` is U − V after the first i + 1 merged values. Between merged[i] and merged[i + 1] both CDFs
    are constant; where values tie, the interval has length 0 (Wasserstein) and only the last position of the tie
    is a real CDF value (KS), so counting the values seen so far gives exactly scipy's searchsorted CDFs.
    """

    def __init__(self, reference_sorted: np.ndarray, production_sorted: np.ndarray) -> None:
        self.reference, self.production = reference_sorted, production_sorted
        self.merged, from_reference = merge_sorted(reference_sorted, production_sorted)
        reference_upto = np.cumsum(from_reference)
        production_upto = np.arange(1, self.merged.size + 1, dtype="int64") - reference_upto
        self.cdf_difference = reference_upto / reference_sorted.size - production_upto / production_sorted.size
        self.deltas = np.diff(self.merged)

    @classmethod
    def of(cls, reference_sorted: np.ndarray, production_sorted: np.ndarray) -> SortedPair:
        return cls(reference_sorted, production_sorted)

    def wasserstein(self) -> float:
        """Equals scipy.stats.wasserstein_distance(reference, production): ∫|U − V| over the merged values."""
        return float(np.vecdot(np.abs(self.cdf_difference[:-1]), self.deltas))

    def ks_statistic(self) -> float:
        """Two-sided KS statistic, equal to scipy.stats.ks_2samp's: the CDFs compared at the last of each tie."""
        at_ends = np.append(self.cdf_difference[:-1][self.deltas != 0], self.cdf_difference[-1])
        return float(max(np.clip(-at_ends.min(), 0, 1), at_ends.max()))

    def ks_pvalue(self) -> float:
        """The p-value scipy.stats.ks_2samp(reference, production) returns (two-sided, method="auto")."""
        n_ref, n_prod = self.reference.size, self.production.size
        if max(n_ref, n_prod) <= KS_EXACT_MAX_N:
            # the exact method: small samples, so let scipy do all of it
            return float(stats.ks_2samp(self.reference, self.production).pvalue)
        larger, smaller = sorted((float(n_ref), float(n_prod)), reverse=True)
        effective_n = larger * smaller / (larger + smaller)
        return float(np.clip(stats.kstwo.sf(self.ks_statistic(), np.round(effective_n)), 0, 1))


# ---------------------------------------------------------------------------------------------------------------
# Drift of one feature


@dataclass
class Distribution:
    """What the report plots: bins (numerical) or categories with the proportion of each data set."""

    kind: str
    labels: list[Any]
    reference: list[float]
    production: list[float]
    edges: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "labels": self.labels,
            "reference": self.reference,
            "production": self.production,
        }
        if self.edges is not None:
            out["edges"] = self.edges
        return out


@dataclass
class DriftMetrics:
    """All drift metrics Azure defines for one feature type, plus what they were computed on."""

    column_type: str
    values: dict[str, float]
    reference_rows: int
    production_rows: int
    distribution: Distribution
    notes: list[str] = field(default_factory=list)
    unseen_categories: list[Any] = field(default_factory=list)


def numerical_drift(reference: np.ndarray, production: np.ndarray, *, presorted: bool = False) -> DriftMetrics:
    """JS distance, PSI, normalized Wasserstein and KS p-value of one numerical feature (no nulls, non-empty)."""
    ref = reference if presorted else np.sort(reference)
    prod = production if presorted else np.sort(production)
    n_ref, n_prod = ref.size, prod.size
    low, high = min(ref[0], prod[0]), max(ref[-1], prod[-1])
    edges = bin_edges(low, high, min(n_ref, n_prod))
    ref_counts = histogram_of_sorted(ref, edges)
    prod_counts = histogram_of_sorted(prod, edges)
    ref_props, prod_props = ref_counts / n_ref, prod_counts / n_prod

    pair = SortedPair.of(ref, prod)
    std = float(np.std(ref, ddof=1)) if n_ref > 1 else 0.0
    notes = []
    if std < STD_FLOOR:
        notes.append(f"reference std {std:.3g} < {STD_FLOOR}: Wasserstein normalized by the floor {STD_FLOOR}")
    if low == high:
        notes.append("constant column (min == max): one bin")
    values = {
        "jensen_shannon_distance": jensen_shannon_distance(ref_props, prod_props),
        "population_stability_index": population_stability_index(ref_counts, prod_counts, n_ref, n_prod),
        "normalized_wasserstein_distance": pair.wasserstein() / max(std, STD_FLOOR),
        "two_sample_kolmogorov_smirnov_test": pair.ks_pvalue(),
    }
    labels = [
        f"[{edges[i]:.4g}, {edges[i + 1]:.4g}{']' if i == len(edges) - 2 else ')'}" for i in range(len(edges) - 1)
    ]
    dist = Distribution(NUMERICAL, labels, ref_props.tolist(), prod_props.tolist(), edges.tolist())
    return DriftMetrics(NUMERICAL, values, n_ref, n_prod, dist, notes)


def category_counts(values: pd.Series | np.ndarray) -> pd.Series:
    """Count of each category (no nulls in `values`)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    return series.value_counts(sort=False)


def chi_squared_pvalue(reference_counts: np.ndarray, production_counts: np.ndarray) -> float:
    """p-value of scipy.stats.chisquare(observed = production counts, expected = baseline proportion × production
    rows) over the union of categories. A category the baseline lacks gets a pseudo-count of 0.5 in the baseline
    (else its expected count is 0 and the statistic infinite); callers flag it. One category in all: p = 1."""
    ref = np.asarray(reference_counts, dtype="float64")
    prod = np.asarray(production_counts, dtype="float64")
    if ref.size < 2:
        return 1.0
    ref = np.where(ref == 0, UNSEEN_CATEGORY_PSEUDO_COUNT, ref)
    expected = ref / ref.sum() * prod.sum()
    return float(stats.chisquare(prod, expected).pvalue)


def categorical_drift(reference: pd.Series | np.ndarray, production: pd.Series | np.ndarray) -> DriftMetrics:
    """JS distance, PSI and chi-squared p-value of one categorical feature (no nulls, both non-empty)."""
    ref_counts = category_counts(reference)
    prod_counts = category_counts(production)
    categories = ref_counts.index.union(prod_counts.index)
    ref_c = ref_counts.reindex(categories, fill_value=0).to_numpy(dtype="int64")
    prod_c = prod_counts.reindex(categories, fill_value=0).to_numpy(dtype="int64")
    n_ref, n_prod = int(ref_c.sum()), int(prod_c.sum())
    ref_props, prod_props = ref_c / n_ref, prod_c / n_prod
    unseen = [_plain(c) for c, count in zip(categories, ref_c, strict=True) if count == 0]
    notes = []
    if unseen:
        notes.append(
            f"{len(unseen)} production categor{'y' if len(unseen) == 1 else 'ies'} not in the reference "
            f"({', '.join(map(str, unseen[:5]))}{', …' if len(unseen) > 5 else ''}): chi-squared expected count "
            f"uses a baseline pseudo-count of {UNSEEN_CATEGORY_PSEUDO_COUNT}"
        )
    values = {
        "jensen_shannon_distance": jensen_shannon_distance(ref_props, prod_props),
        "population_stability_index": population_stability_index(ref_c, prod_c, n_ref, n_prod),
        "pearsons_chi_squared_test": chi_squared_pvalue(ref_c, prod_c),
    }
    dist = Distribution(CATEGORICAL, [_plain(c) for c in categories], ref_props.tolist(), prod_props.tolist())
    return DriftMetrics(CATEGORICAL, values, n_ref, n_prod, dist, notes, unseen)


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: numpy numbers to Python, integral floats (integer codes) to int."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------------------------
# Data quality of one column


@dataclass(frozen=True)
class ReferenceProfile:
    """What the data-quality and drift checks need to know about a reference column."""

    name: str
    column_type: str
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    categories: frozenset[Any] = frozenset()

    @property
    def numeric_codes(self) -> bool:
        """Categories compared as numbers (integer-coded categorical) rather than strings."""
        return self.kind in (FLOAT, INTEGER)

    @classmethod
    def of(cls, values: pd.Series, column_type: str | None = None) -> ReferenceProfile:
        kind = value_kind(values)
        column_type = column_type or infer_column_type(values)
        name = str(values.name)
        if column_type == NUMERICAL:
            array = numeric_array(values)
            if array.size == 0:
                return cls(name, column_type, kind)
            return cls(name, column_type, kind, float(array.min()), float(array.max()))
        counts = category_counts(categorical_values(values, kind in (FLOAT, INTEGER)))
        return cls(name, column_type, kind, categories=frozenset(_plain(c) for c in counts.index))


@dataclass
class QualityMetrics:
    """Rates over all production rows; each bad row counts once: null, else type error, else out of bounds."""

    rows: int
    nulls: int
    type_errors: int
    out_of_bounds: int

    @property
    def values(self) -> dict[str, float]:
        return {
            "null_value_rate": self.nulls / self.rows,
            "data_type_error_rate": self.type_errors / self.rows,
            "out_of_bounds_rate": self.out_of_bounds / self.rows,
        }


def _type_valid_mask(values: pd.Series, kind: str) -> tuple[np.ndarray, pd.Series]:
    """For non-null production values: which have the reference's kind, and the values converted to it."""
    prod_kind = value_kind(values)
    if kind in (FLOAT, INTEGER):
        if prod_kind == BOOLEAN:
            return np.zeros(len(values), dtype=bool), values
        converted = values if prod_kind in (FLOAT, INTEGER) else to_numbers(values)
        array = converted.to_numpy(dtype="float64", na_value=np.nan)
        valid = ~np.isnan(array)
        if kind == INTEGER:
            with np.errstate(invalid="ignore"):
                valid &= ~np.isfinite(array) | (np.mod(array, 1) == 0)
        return valid, converted
    if kind == BOOLEAN:
        return np.full(len(values), prod_kind == BOOLEAN), values
    if kind == DATETIME:
        if prod_kind == DATETIME:
            return np.ones(len(values), dtype=bool), values
        converted = pd.to_datetime(values, errors="coerce")
        return converted.notna().to_numpy(), converted
    # strings expected: a numeric, boolean or datetime column is all type errors; in an object column only the
    # values that are not strings are
    if prod_kind != STRING:
        return np.zeros(len(values), dtype=bool), values
    if pd.api.types.is_object_dtype(values.dtype):
        return np.fromiter((isinstance(v, str) for v in values.to_numpy()), dtype=bool, count=len(values)), values
    return np.ones(len(values), dtype=bool), values


def data_quality(production: pd.Series, profile: ReferenceProfile) -> QualityMetrics:
    """Null rate; data-type error rate against the reference's value kind; out-of-bounds rate against the
    reference min..max (numerical) or the reference's set of values (categorical)."""
    rows = len(production)
    null_mask = production.isna().to_numpy()
    present = production[~null_mask]
    valid, converted = _type_valid_mask(present, profile.kind)
    type_errors = int((~valid).sum())
    good = converted[valid]
    if profile.column_type == NUMERICAL:
        if profile.minimum is None:
            out = 0
        else:
            array = good.to_numpy(dtype="float64", na_value=np.nan) if len(good) else np.empty(0)
            out = int(((array < profile.minimum) | (array > profile.maximum)).sum())
    else:
        cats = categorical_values(good, profile.numeric_codes)
        out = int((~cats.isin(list(profile.categories))).sum()) if len(cats) else 0
    return QualityMetrics(rows, int(null_mask.sum()), type_errors, out)
