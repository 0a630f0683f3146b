"""Per-group metrics over a sensitive feature with fairlearn's MetricFrame, the gaps between groups, and the
disparity the gate can bound.

Classification: count, selection rate (share predicted as the positive class — the model's `positive_label`),
accuracy, recall (true-positive rate) and false-positive rate of the positive class (binary; multiclass: count,
accuracy and macro recall). Regression: count, mean prediction and mae. `differences` is each metric's largest gap
between groups (MetricFrame.difference); a metric undefined for a group (recall without positive rows) is null and
left out. `disparities` holds the summary measures `max_disparity` can bound: demographic_parity_difference and
equalized_odds_difference (binary), accuracy_difference (multiclass), mae_difference (regression). evaluate checks
the groups first (`tabular_common.schema.check_sensitive_groups`: at most 20 groups of 30 rows or more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tabular_common.errors import DataError
from tabular_common.metrics import positive_index
from tabular_common.schema import MISSING_GROUP

# The disparity measures max_disparity can bound, and the tasks each is defined for.
DISPARITY_METRICS = {
    "demographic_parity_difference": "binary",
    "equalized_odds_difference": "binary",
    "accuracy_difference": "classification",
    "mae_difference": "regression",
}


def check_disparity_metric(name: str, task: str, binary: bool | None) -> None:
    """Refuse a disparity measure the task does not define (binary None: not known yet)."""
    if name not in DISPARITY_METRICS:
        raise DataError(f"disparity_metric: '{name}' is not supported; expected one of {', '.join(DISPARITY_METRICS)}")
    kind = DISPARITY_METRICS[name]
    fits = (kind == "regression") == (task == "regression") and not (kind == "binary" and binary is False)
    if not fits:
        usable = [m for m, k in DISPARITY_METRICS.items() if (k == "regression") == (task == "regression")]
        if task == "classification" and binary is False:
            usable = ["accuracy_difference"]
        what = "binary classification" if kind == "binary" else kind
        raise DataError(
            f"disparity_metric: '{name}' is defined for {what}; for this {task} model use one of {', '.join(usable)}"
        )


def group_metrics(
    y_true: Any,
    y_pred: Any,
    groups: pd.Series,
    task: str,
    classes: Sequence[Any] | None = None,
    positive_label: Any = None,
) -> dict[str, Any]:
    """{"groups": {group: {...}}, "differences": {metric: max - min over groups}, "disparities": {...}}."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, mean_absolute_error, recall_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = groups.astype("str").fillna(MISSING_GROUP).to_numpy()
    binary = task == "classification" and classes is not None and len(classes) == 2
    disparities: dict[str, float | None] = {}
    if binary:
        positive = classes[positive_index(classes, positive_label)]
        truth, pred = (y_true == positive).astype(int), (y_pred == positive).astype(int)
        metrics = {
            "count": count,
            "selection_rate": selection_rate,
            "accuracy": accuracy_score,
            "recall": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        }
        frame = MetricFrame(metrics=metrics, y_true=truth, y_pred=pred, sensitive_features=labels)
        disparities["demographic_parity_difference"] = float(
            demographic_parity_difference(truth, pred, sensitive_features=labels)
        )
        disparities["equalized_odds_difference"] = _finite(
            equalized_odds_difference(truth, pred, sensitive_features=labels)
        )
    elif task == "classification":
        metrics = {"count": count, "accuracy": accuracy_score, "recall": _macro_recall(recall_score)}
        frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=labels)
    else:
        metrics = {"count": count, "mean_prediction": _mean_prediction, "mae": mean_absolute_error}
        frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=labels)
    by_group = frame.by_group
    result = {
        str(group): {name: _value(by_group.loc[group, name], name) for name in metrics} for group in by_group.index
    }
    if binary:  # recall / false-positive rate of a group without positive / negative rows is undefined
        for group, row in result.items():
            mask = labels == group
            if not (y_true[mask] == positive).any():
                row["recall"] = None
            if (y_true[mask] == positive).all():
                row["false_positive_rate"] = None
    compared = [name for name in metrics if name != "count"]
    differences = {}
    for name in compared:
        values = [row[name] for row in result.values() if row.get(name) is not None]
        differences[name] = float(max(values) - min(values)) if len(values) >= 2 else None
    if task == "classification" and not binary:
        disparities["accuracy_difference"] = differences["accuracy"]
    elif task == "regression":
        disparities["mae_difference"] = differences["mae"]
    return {"groups": result, "differences": differences, "disparities": disparities}


def _mean_prediction(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(y_pred))


def _macro_recall(recall_score: Any) -> Any:
    def recall(y_true: Any, y_pred: Any) -> float:
        return float(recall_score(y_true, y_pred, average="macro", zero_division=0))

    return recall


def _value(value: Any, name: str) -> Any:
    if name == "count":
        return int(value)
    return _finite(value)


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
