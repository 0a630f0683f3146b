"""Monitor thresholds that fit a new table: measured on its own held-out window, then set with a margin.

The defaults (Azure's SDK defaults, or the sample's) assume one data set; on another table a signal can breach on
the model's own training data (attribution NDCG with many correlated features; a regression model's predictions
compared with the target's wider spread). So `mlops init` scores the held-out window with a quick model, runs
every signal of the rendered monitor on it, and moves each threshold just past what the window shows:

- a metric that alerts above its threshold: max(threshold, 2 × the worst value seen);
- error metrics of regression (mae, mse, rmse), whose scale is the target's: 1.5 × the value seen;
- a metric that alerts below (NDCG, accuracy, precision, recall): min(threshold, 0.8 × the worst value seen);
- p-value tests (KS, chi-squared) are left as they are: on a window without drift they are uniform by design.

A drifted window still breaches: a shifted feature moves its distance far more than twice the sampling noise
(the end-to-end tests shift one numeric and one categorical feature and expect exactly those two to breach).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlops.monitoring.results import ABOVE, SignalResult
from mlops.monitoring.settings import SignalConfig

ABOVE_FACTOR = 2.0
SCALE_FACTOR = 1.5
BELOW_FACTOR = 0.8
SCALE_DEPENDENT = {"mae", "mse", "rmse"}
P_VALUE_TESTS = {"two_sample_kolmogorov_smirnov_test", "pearsons_chi_squared_test"}


def calibrated(signal: SignalConfig, result: SignalResult, ml_task: str) -> Any:
    """The signal's `metric_thresholds` block (as monitor.yml spells it) after seeing one quiet window."""
    worst = _worst_values(result)

    def adjust(column_type: str | None, metric: str, threshold: float) -> float:
        seen = worst.get((column_type, metric))  # per feature type, or (None, metric) for a whole-signal metric
        if seen is None or metric in P_VALUE_TESTS:
            return threshold
        direction = _direction(result, metric)
        if metric in SCALE_DEPENDENT:
            return _round_up(seen * SCALE_FACTOR)
        if direction == ABOVE:
            return max(threshold, _round_up(seen * ABOVE_FACTOR))
        return min(threshold, _round_down(seen * BELOW_FACTOR))

    if signal.numerical or signal.categorical:
        return {
            column_type: {m: adjust(column_type, m, t) for m, t in thresholds.items()}
            for column_type, thresholds in (("numerical", signal.numerical), ("categorical", signal.categorical))
            if thresholds
        }
    block = {m: adjust(None, m, t) for m, t in signal.thresholds.items()}
    return {ml_task: block} if signal.type == "model_performance" else block


def _worst_values(result: SignalResult) -> dict[tuple[str | None, str], float]:
    worst: dict[tuple[str | None, str], float] = {}
    for feature in result.features:
        for metric in feature.metrics:
            if metric.value is None or metric.direction is None:
                continue
            key = (feature.column_type, metric.metric)
            pick = max if metric.direction == ABOVE else min
            worst[key] = pick(worst.get(key, metric.value), metric.value)
    return worst


def _direction(result: SignalResult, metric: str) -> str | None:
    return next((m.direction for f in result.features for m in f.metrics if m.metric == metric), None)


def _round_up(value: float) -> float:
    """Up to two significant digits (0.0437 -> 0.044, 123.4 -> 130)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return float(round(math.ceil(value / step) * step, 12))


def _round_down(value: float) -> float:
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return float(round(math.floor(value / step) * step, 12))


def quick_predictions(
    training: pd.DataFrame,
    windows: list[pd.DataFrame],
    features: list[str],
    target: str,
    task: str,
    id_column: str,
    positive_label: Any = None,
) -> list[pd.DataFrame]:
    """A fast seeded gradient-boosting model (not the pipeline's) fitted on the training rows; its outputs on each
    window as the deployment's data collector stores them: id, `prediction`, and `probability` by the scoring
    rule (binary: of the positive class; multiclass: of the predicted class)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(training[c].dtype)]
    encode = ColumnTransformer(
        [("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), categorical)],
        remainder="passthrough",
    )
    estimator = (HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor)(
        max_iter=100, random_state=0
    )
    model = make_pipeline(encode, estimator).fit(training[features], training[target])
    outputs = []
    for window in windows:
        frame = pd.DataFrame({id_column: window[id_column].to_numpy(), "prediction": model.predict(window[features])})
        if task == "classification":
            proba = model.predict_proba(window[features])
            classes = [str(c) for c in model.classes_]
            binary = len(classes) == 2
            frame["probability"] = proba[:, classes.index(str(positive_label))] if binary else proba.max(axis=1)
        outputs.append(frame)
    return outputs
