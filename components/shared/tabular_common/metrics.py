"""Metrics for both tasks, computed the same way by training (on the train split) and evaluation (on the test
split, for the candidate and the champion).

Binary classification: the positive class is the model's second class (`classes_[1]`, e.g. 1 for 0/1 labels);
precision, recall and f1 are for that class and roc_auc uses its probability. Multiclass: weighted averages and
one-vs-rest weighted roc_auc. A metric that is undefined on the data (roc_auc with one class present) is left out
rather than reported as NaN.
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


def metric_names(task: str) -> tuple[str, ...]:
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray | None = None, classes: Sequence[Any] | None = None
) -> dict[str, float]:
    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = list(classes)
    binary = len(classes) == 2
    averaging: dict[str, Any] = {"average": "binary", "pos_label": classes[1]} if binary else {"average": "weighted"}
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0, **averaging),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0, **averaging),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0, **averaging),
    }
    # A metric that cannot be computed (one class in the test split, a test class the model never saw) is left out.
    if proba is not None and len(np.unique(y_true)) > 1:
        with contextlib.suppress(ValueError):
            if binary:
                result["roc_auc"] = skm.roc_auc_score(y_true == classes[1], proba[:, 1])
            else:
                result["roc_auc"] = skm.roc_auc_score(
                    y_true, proba, multi_class="ovr", average="weighted", labels=classes
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
    task: str, y_true: Any, predictions: Any, proba: np.ndarray | None = None, classes: Sequence[Any] | None = None
) -> dict[str, float]:
    """All metrics of `task` from predictions (and class probabilities for classification)."""
    if task == "classification":
        return classification_metrics(y_true, predictions, proba, classes)
    return regression_metrics(y_true, predictions)


def score_model(model: Any, features: Any, y_true: Any, task: str) -> dict[str, float]:
    """All metrics of `task` for a fitted model on (features, y_true)."""
    predictions, proba = predict(model, features, task)
    return task_metrics(task, y_true, predictions, proba, getattr(model, "classes_", None))


def _finite(values: dict[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items() if value is not None and math.isfinite(value)}
