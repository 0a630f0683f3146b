"""Feature importances from a surrogate model, and the NDCG Azure's feature-attribution-drift signal reports.

Azure fits a LightGBM surrogate on each data set (features -> the model's output, or the reference's target) and
compares the two importance vectors with NDCG. Here the surrogate is scikit-learn's HistGradientBoosting — the
same algorithm family as LightGBM (histogram-binned gradient-boosted trees, native missing values and
categoricals), already in the lock — and, because it exposes no split/gain importances, the importance of a
feature is its permutation importance on the surrogate (mean drop of the surrogate's score when the feature is
shuffled, negatives clipped to 0). Fits are seeded and capped in rows, so the numbers are reproducible and fast.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import pandas as pd

MAX_FIT_ROWS = 20_000
MAX_PERMUTATION_ROWS = 2_000
PERMUTATION_REPEATS = 3
MAX_ITER = 50
# HistGradientBoosting handles at most this many categories natively; above it, categories become integer codes.
MAX_NATIVE_CATEGORIES = 255
# Importances of data seen before in this process (the reference, for every window a process monitors) are reused.
CACHED_IMPORTANCES = 4
_importances: OrderedDict[str, tuple[dict[str, float] | None, str | None]] = OrderedDict()


def _surrogate_matrix(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Features as a float matrix (missing = NaN) and a mask of the columns the surrogate treats as categorical.

    Non-numeric columns become category codes (passed as native categoricals up to 255 categories); encoding once
    here keeps the surrogate's many predictions during permutation free of per-call preprocessing.
    """
    columns, categorical = [], []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values.dtype):  # booleans included
            columns.append(values.to_numpy(dtype="float64", na_value=np.nan))
            categorical.append(False)
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            columns.append(np.where(codes >= 0, codes, np.nan).astype("float64"))
            categorical.append(len(uniques) <= MAX_NATIVE_CATEGORIES)
    return np.column_stack(columns), np.array(categorical, dtype=bool)


def feature_importance(
    features: pd.DataFrame, target: pd.Series, task: str, *, seed: int = 0
) -> tuple[dict[str, float] | None, str | None]:
    """Permutation importance of each column of `features` for a surrogate fitted to predict `target`.

    Returns (importances, None), or (None, reason) when no surrogate can be fitted (e.g. a constant target).
    The same data in the same process gives the same answer, so it is computed once (`CACHED_IMPORTANCES`).
    """
    key = _digest(features, target, task, seed)
    if key is None:
        return _feature_importance(features, target, task, seed)
    if key not in _importances:
        _importances[key] = _feature_importance(features, target, task, seed)
        while len(_importances) > CACHED_IMPORTANCES:
            _importances.popitem(last=False)
    importances, reason = _importances[key]
    return (dict(importances) if importances is not None else None), reason


def _digest(features: pd.DataFrame, target: pd.Series, task: str, seed: int) -> str | None:
    """A digest of the inputs, or None for a column of mixed types (pandas hashes 1 and "1" alike there)."""
    for column in [*(features[c] for c in features.columns), target]:
        if column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) != "string":
            return None
    digest = hashlib.sha256(f"{task}|{seed}|{[(str(c), str(t)) for c, t in features.dtypes.items()]}".encode())
    digest.update(str(target.dtype).encode())
    for part in (features, target):
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _feature_importance(
    features: pd.DataFrame, target: pd.Series, task: str, seed: int
) -> tuple[dict[str, float] | None, str | None]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    mask = target.notna().to_numpy()
    features, y = features.loc[mask], target.loc[mask]
    if len(y) < 2:
        return None, f"{len(y)} row(s) with a target: too few to fit a surrogate"
    if task == "classification":
        y = y.astype(str)
        if y.nunique() < 2:
            return None, f"the target is constant ({y.iloc[0]}): no surrogate to explain it"
        model = HistGradientBoostingClassifier(max_iter=MAX_ITER, random_state=seed, early_stopping=False)
    else:
        y = pd.to_numeric(y, errors="coerce").astype("float64")
        if y.nunique() < 2:
            return None, "the target is constant: no surrogate to explain it"
        model = HistGradientBoostingRegressor(max_iter=MAX_ITER, random_state=seed, early_stopping=False)
    rng = np.random.default_rng(seed)
    fit_rows = rng.permutation(len(y))[:MAX_FIT_ROWS]  # shuffled: the permutation rows are its first ones
    X, categorical = _surrogate_matrix(features.iloc[fit_rows])
    y = y.iloc[fit_rows].to_numpy()
    model.set_params(categorical_features=categorical if categorical.any() else None)
    # One OpenMP thread: the fits are small, and on a busy machine idle OpenMP threads spinning for a core they
    # share cost far more than the parallelism brings.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(X, y)
        result = permutation_importance(
            model,
            X[:MAX_PERMUTATION_ROWS],
            y[:MAX_PERMUTATION_ROWS],
            n_repeats=PERMUTATION_REPEATS,
            random_state=seed,
            n_jobs=1,
        )
    importances = np.clip(result.importances_mean, 0.0, None)
    return {str(c): float(v) for c, v in zip(features.columns, importances, strict=True)}, None


def ndcg(reference_importance: dict[str, float], production_importance: dict[str, float]) -> tuple[float | None, str]:
    """sklearn.metrics.ndcg_score([baseline], [production]) over the features both have.

    Baseline importances are the relevance, production importances the ranking. Returns (value, note).
    """
    from sklearn.metrics import ndcg_score

    common = [f for f in reference_importance if f in production_importance]
    if len(common) < 2:
        return None, f"{len(common)} common feature(s): NDCG needs at least 2"
    baseline = np.array([reference_importance[f] for f in common])
    production = np.array([production_importance[f] for f in common])
    if not baseline.any():
        return None, "every baseline importance is 0: nothing to rank"
    return float(ndcg_score([baseline], [production])), f"over {len(common)} common features"
