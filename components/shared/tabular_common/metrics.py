"""Metrics for both tasks, computed the same way by training (on the train split) and evaluation (on the test
split, for the candidate and the champion).

Binary classification: the positive class is the model's `positive_label` (MLmodel metadata, set by train_model:
the `positive_label` input, or the class that sorts last when none is given — `classes_[1]`, e.g. 1 for 0/1
labels); precision, recall and f1 are for that class and roc_auc uses its probability. Multiclass: precision,
recall and f1 macro-averaged (every class counts the same, whatever its size — the averaging the monitor uses),
roc_auc one-vs-rest macro-averaged. A metric that is undefined on the data (roc_auc with one class present) is
left out rather than reported as NaN.

Each metric has a range (`METRIC_RANGES`), a direction (`higher_is_better`) and a default gate threshold
(`DEFAULT_THRESHOLDS`), so a threshold meant for one metric cannot pass unnoticed for another.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")
LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "log_loss"})
MULTICLASS_AVERAGE = "macro"
# (lowest, highest) value a metric can take; None = unbounded on that side.
METRIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    "accuracy": (0.0, 1.0),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "roc_auc": (0.0, 1.0),
    "log_loss": (0.0, None),
    "mae": (0.0, None),
    "mse": (0.0, None),
    "rmse": (0.0, None),
    "r2": (None, 1.0),
}
# The gate's bound when min_metric is not given: no better than chance is refused (roc_auc 0.5, r2 0 = predicting
# the mean); metrics whose chance level depends on the data get no bound (None).
DEFAULT_THRESHOLDS: dict[str, float | None] = {
    "accuracy": None,
    "precision": None,
    "recall": None,
    "f1": None,
    "roc_auc": 0.5,
    "log_loss": None,
    "mae": None,
    "mse": None,
    "rmse": None,
    "r2": 0.0,
}


def metric_names(task: str) -> tuple[str, ...]:
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def describe_range(metric: str) -> str:
    """`[0, 1]`, `>= 0`, `<= 1`."""
    low, high = METRIC_RANGES[metric]
    if low is not None and high is not None:
        return f"[{low:g}, {high:g}]"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def in_range(metric: str, value: float) -> bool:
    low, high = METRIC_RANGES[metric]
    return (low is None or value >= low) and (high is None or value <= high)


def positive_index(classes: Sequence[Any], positive_label: Any = None) -> int:
    """The column of the positive class in `classes` (binary): `positive_label`'s, else the last class.

    Labels are matched by their text (`1` matches `"1"`), as a pipeline input arrives as a string."""
    if positive_label is None:
        return len(classes) - 1
    texts = [label_text(label) for label in classes]
    return texts.index(label_text(positive_label))


def label_text(value: Any) -> str:
    """A class label as text: numpy scalars as Python values, whole-number floats without `.0`."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    positive_label: Any = None,
) -> dict[str, float]:
    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = list(classes)
    binary = len(classes) == 2
    positive = positive_index(classes, positive_label) if binary else None
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": classes[positive]}
        if positive is not None
        else {"average": MULTICLASS_AVERAGE}
    )
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0, **averaging),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0, **averaging),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0, **averaging),
    }
    # A metric that cannot be computed (one class in the test split, a test class the model never saw) is left out.
    if proba is not None and len(np.unique(y_true)) > 1:
        with contextlib.suppress(ValueError):
            if positive is not None:
                result["roc_auc"] = skm.roc_auc_score(y_true == classes[positive], proba[:, positive])
            else:
                result["roc_auc"] = skm.roc_auc_score(
                    y_true, proba, multi_class="ovr", average=MULTICLASS_AVERAGE, labels=classes
                )
    if proba is not None:
        with contextlib.suppress(ValueError):
            result["log_loss"] = skm.log_loss(y_true, proba, labels=classes)
    return _finite(result)


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    from sklearn import metrics as skm

    mse = skm.mean_squared_error(y_true, y_pred)
    result = {
        "mae": skm.mean_absolute_error(y_true, y_pred),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": skm.r2_score(y_true, y_pred) if len(y_true) > 1 else float("nan"),
    }
    return _finite(result)


def predict(model: Any, features: Any, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(predictions, class probabilities or None) of a fitted scikit-learn model."""
    predictions = np.asarray(model.predict(features))
    proba = None
    if task == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(features))
    return predictions, proba


def task_metrics(
    task: str,
    y_true: Any,
    predictions: Any,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    positive_label: Any = None,
) -> dict[str, float]:
    """All metrics of `task` from predictions (and class probabilities for classification)."""
    if task == "classification":
        return classification_metrics(y_true, predictions, proba, classes, positive_label)
    return regression_metrics(y_true, predictions)


def score_model(model: Any, features: Any, y_true: Any, task: str, positive_label: Any = None) -> dict[str, float]:
    """All metrics of `task` for a fitted model on (features, y_true); `positive_label` for a binary model."""
    predictions, proba = predict(model, features, task)
    return task_metrics(task, y_true, predictions, proba, getattr(model, "classes_", None), positive_label)


def _finite(values: dict[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items() if value is not None and math.isfinite(value)}
