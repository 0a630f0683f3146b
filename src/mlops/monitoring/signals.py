"""Compute one monitoring signal on one window of data: data drift, prediction drift, data quality, feature
attribution drift and model performance, with the thresholds of monitoring/monitor.yml.

Each signal type has one compute function, `(signal, config, data, result) -> None`, that fills `result`; the
registry (kinds.py) says which type uses which and which way each metric alerts.

Each compute function checks that it has enough data first: at least the signal's `min_rows` rows in what it computes
on, and for the signals on the model's outputs, predictions for at least `min_prediction_coverage` of the window's
input rows. Otherwise the signal is "not enough data" with the counts in its reason. Ids are joined as text (7, 7.0
and "7" are one id), so a join never fails on the id column's type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops.monitoring import attribution
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.metrics import (
    CATEGORICAL,
    NUMERICAL,
    DriftMetrics,
    ReferenceProfile,
    categorical_drift,
    categorical_values,
    infer_column_type,
    numeric_array,
    numerical_drift,
    to_numbers,
)
from mlops.monitoring.metrics import data_quality as column_quality
from mlops.monitoring.results import NOT_ENOUGH_DATA, SKIPPED, FeatureResult, MetricResult, SignalResult
from mlops.monitoring.settings import (
    ATTRIBUTION_METRIC,
    DRIFT_METRICS,
    MIN_PREDICTION_COVERAGE,
    MIN_WINDOW_ROWS,
    PERFORMANCE_METRICS,
    QUALITY_METRICS,
    MonitorConfig,
    SignalConfig,
)

DEFAULT_PREDICTION_COLUMN = "prediction"
# Private column names for joins by id (the id's text form, the value brought over from the other frame).
_JOIN_KEY, _JOINED = "__mlops_join_key", "__mlops_joined_value"


@dataclass(eq=False)
class WindowData:
    """The frames of one monitoring window (the caller reads the files) and caches shared between signals."""

    reference: pd.DataFrame
    production: pd.DataFrame
    predictions: pd.DataFrame | None = None
    ground_truth: pd.DataFrame | None = None
    reference_predictions: pd.DataFrame | None = None
    id_column: str | None = None
    _profiles: dict[tuple[str, str, str], ReferenceProfile] = field(default_factory=dict, repr=False)
    _drift: dict[tuple[str, str, str], DriftMetrics | str] = field(default_factory=dict, repr=False)
    _coverage: dict[str | None, tuple[int, str]] = field(default_factory=dict, repr=False)

    def prediction_coverage(self, id_column: str | None) -> tuple[int, str]:
        """(input rows that have a prediction, how they were matched): by the id column when both frames have it,
        else by row count."""
        if id_column not in self._coverage:
            assert self.predictions is not None
            production, predictions = self.production, self.predictions
            if id_column and id_column in production.columns and id_column in predictions.columns:
                predicted = set(id_keys(predictions[id_column]).dropna())
                matched = int(id_keys(production[id_column]).isin(predicted).sum())
                self._coverage[id_column] = (matched, f"matched by {id_column}")
            else:
                self._coverage[id_column] = (min(len(predictions), len(production)), "by row count")
        return self._coverage[id_column]

    def profile(self, source: str, reference: pd.Series, column_type: str) -> ReferenceProfile:
        key = (source, str(reference.name), column_type)
        if key not in self._profiles:
            self._profiles[key] = ReferenceProfile.of(reference, column_type)
        return self._profiles[key]

    def drift(
        self, source: str, reference: pd.Series, production: pd.Series, profile: ReferenceProfile
    ) -> DriftMetrics | str:
        """All drift metrics of one column (cached: two drift signals on one column share the work), or why not."""
        key = (source, str(reference.name), profile.column_type)
        if key not in self._drift:
            self._drift[key] = _drift_of(reference, production, profile)
        return self._drift[key]


def _drift_of(reference: pd.Series, production: pd.Series, profile: ReferenceProfile) -> DriftMetrics | str:
    # Nulls are dropped per column: each feature's drift uses the rows where that feature is present.
    if profile.column_type == NUMERICAL:
        ref, prod = numeric_array(reference), numeric_array(production)
    else:
        ref = categorical_values(reference, profile.numeric_codes)
        prod = categorical_values(production, profile.numeric_codes)
    if len(prod) == 0:
        return f"no non-null production values ({len(production)} rows, all null or not of the reference type)"
    if len(ref) == 0:
        return f"no non-null reference values ({len(reference)} rows)"
    if profile.column_type == NUMERICAL:
        return numerical_drift(ref, prod)
    return categorical_drift(ref, prod)


# ---------------------------------------------------------------------------------------------------------------


def _skip(result: SignalResult, reason: str) -> None:
    result.status = SKIPPED
    result.reason = reason


def _enough_rows(signal: SignalConfig, result: SignalResult, rows: int, what: str) -> bool:
    """False (and the signal is "not enough data") when `rows` is below the signal's minimum."""
    if rows >= signal.min_rows:
        return True
    result.status = NOT_ENOUGH_DATA
    result.reason = f"{rows} {what} < minimum {signal.min_rows} (properties.{MIN_WINDOW_ROWS})"
    return False


def _enough_predictions(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> bool:
    """The prediction-based signals need predictions for enough of the window's inputs: a window whose outputs were
    collected (or scored) for only part of its inputs would be judged on a slice the rest may not resemble.

    No predictions matching any input by id is bad input (another window's predictions?): an error."""
    assert data.predictions is not None
    if len(data.predictions) == 0:
        raise MonitorInputError(f"signal '{signal.name}': the predictions for this window have no rows")
    matched, how = data.prediction_coverage(_correlation_column(signal, data))
    inputs = len(data.production)
    if matched == 0:
        raise MonitorInputError(
            f"signal '{signal.name}': none of the {len(data.predictions)} predictions is for one of the window's "
            f"{inputs} input rows ({how}): are they this window's predictions?"
        )
    minimum = config.window.min_prediction_coverage
    counts = f"predictions for {matched} of {inputs} input rows ({matched / inputs:.0%}, {how})"
    if matched / inputs < minimum:
        result.status = NOT_ENOUGH_DATA
        result.reason = f"{counts} < minimum coverage {minimum:.0%} (properties.{MIN_PREDICTION_COVERAGE})"
        return False
    if matched < inputs:
        result.notes.append(counts)
    return True


def id_keys(ids: pd.Series) -> pd.Series:
    """Ids as text, the way labels are matched: 7, 7.0 and "7" are one id; nulls stay null (they match nothing)."""
    if pd.api.types.is_integer_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        return ids.astype("string")
    return ids.map(lambda value: None if pd.isna(value) else _label_text(value), na_action="ignore").astype("string")


def _join(frame: pd.DataFrame, other: pd.DataFrame, id_column: str, column: str) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of `frame` that have a row of `other` with the same id, and `other[column]` beside them."""
    left = frame.assign(**{_JOIN_KEY: id_keys(frame[id_column])}).dropna(subset=[_JOIN_KEY])
    right = pd.DataFrame({_JOIN_KEY: id_keys(other[id_column]), _JOINED: other[column].to_numpy()}).dropna(
        subset=[_JOIN_KEY]
    )
    joined = left.merge(right, on=_JOIN_KEY, how="inner")
    return joined.drop(columns=[_JOIN_KEY, _JOINED]), joined[_JOINED]


def _like_reference(production: pd.DataFrame, reference: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Production features the reference holds as numbers, as numbers (text that is not a number becomes null), so
    a surrogate sees the same kind of column on both sides."""
    converted = {
        f: to_numbers(production[f])
        for f in features
        if pd.api.types.is_numeric_dtype(reference[f].dtype)
        and not pd.api.types.is_bool_dtype(reference[f].dtype)
        and not pd.api.types.is_numeric_dtype(production[f].dtype)
    }
    return production.assign(**converted) if converted else production


def _excluded_columns(config: MonitorConfig, data: WindowData) -> set[str]:
    """Columns that are never features: ids, the target, the model's outputs."""
    excluded = {data.id_column} if data.id_column else set()
    for signal in config.signals.values():
        for role in ("correlation_id", "target_column", "prediction", "prediction_probability", "actual"):
            column = signal.column(role)
            if column:
                excluded.add(column)
    return excluded


def _column_type(signal: SignalConfig, feature: str, reference: pd.Series) -> str:
    return signal.feature_type_override.get(feature) or infer_column_type(reference)


def _select_features(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> list[str]:
    reference, production = data.reference, data.production
    if signal.features is not None:
        for label, frame in (("reference", reference), ("production", production)):
            missing = [f for f in signal.features if f not in frame.columns]
            if missing:
                raise MonitorInputError(
                    f"signal '{signal.name}': feature{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"missing from the {label} data (it has: {', '.join(map(str, frame.columns))})"
                )
        return list(signal.features)
    excluded = _excluded_columns(config, data)
    common = [c for c in reference.columns if c in production.columns and c not in excluded]
    only = sorted(set(reference.columns).symmetric_difference(production.columns) - excluded)
    if only:
        result.notes.append(f"columns in only one data set, not compared: {', '.join(map(str, only))}")
    if not common:
        raise MonitorInputError(
            f"signal '{signal.name}': the reference and production data have no feature column in common"
        )
    if signal.top_n_features is None:
        return common
    target = signal.reference_column("target_column")
    if not target or target not in reference.columns:
        raise MonitorInputError(
            f"signal '{signal.name}': features.top_n_feature_importance needs the reference target column "
            f"(reference_data.data_column_names.target_column{f' = {target}' if target else ''})"
        )
    importance, reason = attribution.feature_importance(reference[common], reference[target], config.ml_task)
    if importance is None:
        raise MonitorInputError(f"signal '{signal.name}': cannot rank features by importance: {reason}")
    ranked = sorted(common, key=lambda f: -importance[f])[: signal.top_n_features]
    result.notes.append(f"top {signal.top_n_features} features by importance on the reference: {', '.join(ranked)}")
    return ranked


def _drift_feature(
    signal: SignalConfig,
    data: WindowData,
    source: str,
    feature: str,
    reference: pd.Series,
    production: pd.Series,
    column_type: str,
) -> FeatureResult:
    profile = data.profile(source, reference, column_type)
    drift = data.drift(source, reference, production, profile)
    thresholds = signal.numerical if column_type == NUMERICAL else signal.categorical
    if isinstance(drift, str):
        metrics = [MetricResult(m, None, thresholds.get(m), reason=drift) for m in DRIFT_METRICS[column_type]]
        return FeatureResult(feature, column_type, metrics, notes=[f"drift not computable: {drift}"])
    if drift.production_rows < signal.min_rows:
        reason = (
            f"{NOT_ENOUGH_DATA}: {drift.production_rows} non-null production values < minimum {signal.min_rows} "
            f"(properties.{MIN_WINDOW_ROWS})"
        )
        metrics = [MetricResult(m, None, thresholds.get(m), reason=reason) for m in DRIFT_METRICS[column_type]]
        return FeatureResult(feature, column_type, metrics, drift.reference_rows, drift.production_rows, [reason])
    metrics = [MetricResult(m, drift.values[m], thresholds.get(m)) for m in DRIFT_METRICS[column_type]]
    details: dict[str, Any] = {}
    if drift.unseen_categories:
        details["unseen_categories"] = drift.unseen_categories
    return FeatureResult(
        feature,
        column_type,
        metrics,
        reference_rows=drift.reference_rows,
        production_rows=drift.production_rows,
        notes=list(drift.notes),
        details=details,
        distribution=drift.distribution,
    )


def data_drift(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> None:
    features = _select_features(signal, config, data, result)
    if not _enough_rows(signal, result, len(data.production), "row(s) in the window"):
        return
    for feature in features:
        reference = data.reference[feature]
        column_type = _column_type(signal, feature, reference)
        result.features.append(
            _drift_feature(signal, data, "inputs", feature, reference, data.production[feature], column_type)
        )


def data_quality(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> None:
    features = _select_features(signal, config, data, result)
    if not _enough_rows(signal, result, len(data.production), "row(s) in the window"):
        return
    for feature in features:
        reference = data.reference[feature]
        column_type = _column_type(signal, feature, reference)
        profile = data.profile("inputs", reference, column_type)
        quality = column_quality(data.production[feature], profile)
        thresholds = signal.numerical if column_type == NUMERICAL else signal.categorical
        metrics = [MetricResult(m, quality.values[m], thresholds.get(m)) for m in QUALITY_METRICS]
        notes = []
        if quality.nulls == quality.rows:
            notes.append("every production value is null")
        result.features.append(
            FeatureResult(
                feature,
                column_type,
                metrics,
                production_rows=quality.rows,
                notes=notes,
                details={
                    "nulls": quality.nulls,
                    "type_errors": quality.type_errors,
                    "out_of_bounds": quality.out_of_bounds,
                },
            )
        )


# ---------------------------------------------------------------------------------------------------------------
# Signals on the model's outputs


def _correlation_column(signal: SignalConfig, data: WindowData) -> str | None:
    return data.id_column or signal.production_column("correlation_id") or signal.reference_column("correlation_id")


def _id_column(signal: SignalConfig, data: WindowData) -> str:
    column = _correlation_column(signal, data)
    if not column:
        raise MonitorInputError(
            f"signal '{signal.name}': no id column to join on (data_column_names.correlation_id, or id_column=)"
        )
    return column


def _require(frame: pd.DataFrame, columns: list[str], what: str, signal: SignalConfig) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MonitorInputError(
            f"signal '{signal.name}': column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing from "
            f"the {what} (it has: {', '.join(map(str, frame.columns))})"
        )


def prediction_drift(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> None:
    if data.predictions is None:
        return _skip(result, "no predictions given for this window")
    predictions = data.predictions
    prediction = signal.production_column("prediction") or DEFAULT_PREDICTION_COLUMN
    probability = signal.production_column("prediction_probability")
    if not _enough_predictions(signal, config, data, result):
        return
    _require(predictions, [prediction], "predictions", signal)
    if not _enough_rows(signal, result, len(predictions), "prediction(s) in the window"):
        return
    outputs = [(prediction, CATEGORICAL if config.ml_task == "classification" else NUMERICAL)]
    if probability:
        if probability in predictions.columns:
            outputs.append((probability, NUMERICAL))
        else:
            result.notes.append(f"no {probability} column in the predictions: probability drift not computed")

    if data.reference_predictions is not None:
        reference = data.reference_predictions
        _require(reference, [prediction], "reference predictions", signal)
        result.notes.append("reference: the model's outputs on the reference data")
        sources = {name: reference[name] for name, _ in outputs if name in reference.columns}
    else:
        target = signal.reference_column("target_column")
        if not target:
            return _skip(
                result,
                "no reference outputs: pass reference predictions, or set the target column "
                "(reference_data.data_column_names.target_column)",
            )
        _require(data.reference, [target], "reference data", signal)
        result.notes.append(f"reference: the reference data's target column '{target}'")
        sources = {prediction: data.reference[target].rename(prediction)}
    for name, default_type in outputs:
        if name not in sources:
            result.notes.append(f"no {name} in the reference outputs: its drift is not computed")
            continue
        column_type = signal.feature_type_override.get(name, default_type)
        result.features.append(
            _drift_feature(signal, data, "outputs", name, sources[name], predictions[name], column_type)
        )


def feature_attribution_drift(
    signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult
) -> None:
    if data.predictions is None:
        return _skip(result, "no predictions given for this window")
    id_column = _id_column(signal, data)
    prediction = signal.production_column("prediction") or DEFAULT_PREDICTION_COLUMN
    if not _enough_predictions(signal, config, data, result):
        return
    _require(data.predictions, [id_column, prediction], "predictions", signal)
    _require(data.production, [id_column], "production data", signal)
    excluded = _excluded_columns(config, data) | {id_column}
    features = [c for c in data.reference.columns if c in data.production.columns and c not in excluded]
    if len(features) < 2:
        raise MonitorInputError(f"signal '{signal.name}': fewer than 2 feature columns common to both data sets")

    if data.reference_predictions is not None:
        _require(data.reference_predictions, [id_column, prediction], "reference predictions", signal)
        _require(data.reference, [id_column], "reference data", signal)
        reference, reference_target = _join(data.reference, data.reference_predictions, id_column, prediction)
        basis = "the model's outputs on the reference data"
    else:
        target = signal.reference_column("target_column")
        if not target:
            return _skip(result, "no reference target: set reference_data.data_column_names.target_column")
        _require(data.reference, [target], "reference data", signal)
        reference, reference_target = data.reference, data.reference[target]
        basis = f"the reference target column '{target}'"
    production, production_target = _join(data.production, data.predictions, id_column, prediction)
    if not _enough_rows(signal, result, len(production), f"input row(s) joined to a prediction by {id_column}"):
        return
    production = _like_reference(production, reference, features)

    ref_importance, ref_reason = attribution.feature_importance(reference[features], reference_target, config.ml_task)
    prod_importance, prod_reason = attribution.feature_importance(
        production[features], production_target, config.ml_task
    )
    threshold = signal.thresholds.get(ATTRIBUTION_METRIC)
    details: dict[str, Any] = {"basis": {"reference": basis, "production": "the model's predictions"}}
    if ref_importance is None or prod_importance is None:
        reason = f"reference: {ref_reason}" if ref_importance is None else f"production: {prod_reason}"
        metric = MetricResult(ATTRIBUTION_METRIC, None, threshold, reason=reason)
        notes = [f"NDCG not computable: {reason}"]
    else:
        value, note = attribution.ndcg(ref_importance, prod_importance)
        metric = MetricResult(ATTRIBUTION_METRIC, value, threshold, reason=None if value is not None else note)
        notes = [f"NDCG {note}"]
        details["reference_importance"] = ref_importance
        details["production_importance"] = prod_importance
    result.features.append(
        FeatureResult(
            "(feature importance ranking)",
            None,
            [metric],
            reference_rows=len(reference),
            production_rows=len(production),
            notes=notes,
            details=details,
        )
    )


def model_performance(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> None:
    if data.predictions is None or data.ground_truth is None:
        missing = "predictions" if data.predictions is None else "ground truth"
        return _skip(result, f"no {missing} given for this window")
    id_column = _id_column(signal, data)
    prediction = signal.production_column("prediction") or DEFAULT_PREDICTION_COLUMN
    actual = signal.reference_column("actual")
    if not actual:
        raise MonitorInputError(
            f"signal '{signal.name}': reference_data.data_column_names.actual (the ground-truth column) is not set"
        )
    if not _enough_predictions(signal, config, data, result):
        return
    _require(data.predictions, [id_column, prediction], "predictions", signal)
    _require(data.ground_truth, [id_column, actual], "ground truth", signal)
    joined, truth = _join(data.predictions[[id_column, prediction]], data.ground_truth, id_column, actual)
    y_pred, y_true = joined[prediction], truth
    if config.ml_task == "regression":  # numbers only; text that is not a number is dropped with the nulls
        y_pred, y_true = to_numbers(y_pred), to_numbers(y_true)
    present = (y_pred.notna() & y_true.notna()).to_numpy()
    joined_to = f"of {len(data.predictions)} prediction(s) joined to ground truth by {id_column}"
    if not _enough_rows(signal, result, int(present.sum()), f"{joined_to} ({len(data.ground_truth)} labels)"):
        return
    y_pred, y_true = y_pred.to_numpy()[present], y_true.to_numpy()[present]
    notes = [f"{int(present.sum())} {joined_to}"]
    if config.ml_task == "classification":
        values, reasons, scoring = classification_scores(y_true, y_pred, config.positive_label)
        notes.append(scoring)
    else:
        values, reasons = regression_errors(y_true.astype("float64"), y_pred.astype("float64")), {}
    metrics = [
        MetricResult(m, values[m], signal.thresholds.get(m), reason=reasons.get(m))
        for m in PERFORMANCE_METRICS[config.ml_task]
    ]
    result.features.append(FeatureResult(prediction, None, metrics, production_rows=len(y_pred), notes=notes))


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, positive_label: str | None = None
) -> tuple[dict[str, float | None], dict[str, str], str]:
    """Accuracy; precision and recall of the positive class for a binary model, macro-averaged over the classes of
    the window for a multiclass one.

    The positive class is `positive_label` (monitor.yml's properties.mlops.positive_label, the model's
    positive_label), matched by text ("1" is 1). Without it, a window with at most two classes is scored as binary
    with the class that sorts last (train_model's default), and one with more is macro-averaged.
    Returns (values, reasons for the values that are None, how precision and recall were computed).
    """
    true, pred = _label_texts(y_true), _label_texts(y_pred)
    labels = _sorted_labels(np.concatenate([np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)]))
    if positive_label is not None:
        classes = [_label_text(positive_label)]
        scoring = f"precision and recall of the positive class {classes[0]} (properties.mlops.positive_label)"
    elif len(labels) <= 2:
        classes = labels[-1:]
        scoring = (
            f"precision and recall of the class that sorts last, {labels[-1]} (no properties.mlops.positive_label)"
        )
    else:
        classes, scoring = labels, f"precision and recall macro-averaged over {len(labels)} classes"
    precisions, recalls = [], []
    for label in classes:
        predicted, actual = pred == label, true == label
        hits = float(np.sum(predicted & actual))
        if predicted.any():
            precisions.append(hits / predicted.sum())
        if actual.any():
            recalls.append(hits / actual.sum())
    values: dict[str, float | None] = {"accuracy": float(np.mean(true == pred))}
    reasons: dict[str, str] = {}
    for name, scores, missing in (("precision", precisions, "predicted"), ("recall", recalls, "actual")):
        values[name] = float(np.mean(scores)) if scores else None
        if not scores:
            reasons[name] = f"no {missing} positives in the window"
    return values, reasons, scoring


def _label_text(value: Any) -> str:
    """A class label as text, as train_model matches positive_label: whole-number floats without `.0`."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _label_texts(values: np.ndarray) -> np.ndarray:
    return np.array([_label_text(v) for v in values], dtype=object)


def _sorted_labels(values: np.ndarray) -> list[str]:
    """The distinct labels as text, in the order scikit-learn sorts classes (numbers by value, else by text)."""
    distinct = {_label_text(v): v for v in values}
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in distinct.values())
    return sorted(distinct, key=(lambda text: float(distinct[text])) if numeric else None)


def regression_errors(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    errors = y_pred - y_true
    mse = float(np.mean(errors**2))
    return {"mae": float(np.mean(np.abs(errors))), "mse": mse, "rmse": float(np.sqrt(mse))}
