"""Per-group metrics over a sensitive feature, and the largest gap between groups.

Classification: count, selection rate (share predicted as the positive class; binary only), accuracy and recall
(of the positive class — the model's `positive_label`; macro recall for multiclass). Regression: count, mean
prediction and mae. A metric that is undefined for a group (recall without positive rows) is null and left out of
the gaps. evaluate checks the groups first (`tabular_common.schema.check_sensitive_groups`: at most 20 groups of
30 rows or more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tabular_common.metrics import positive_index
from tabular_common.schema import MISSING_GROUP


def group_metrics(
    y_true: Any,
    y_pred: Any,
    groups: pd.Series,
    task: str,
    classes: Sequence[Any] | None = None,
    positive_label: Any = None,
) -> dict[str, Any]:
    """{"groups": {group: {...}}, "differences": {metric: max - min over groups}}."""
    from sklearn.metrics import mean_absolute_error, recall_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    labels = groups.astype("str").fillna(MISSING_GROUP).to_numpy()
    binary = classes is not None and len(classes) == 2
    positive = classes[positive_index(classes, positive_label)] if binary else None
    result: dict[str, dict[str, Any]] = {}
    for group in sorted(set(labels)):
        mask = labels == group
        truth, pred = y_true[mask], y_pred[mask]
        row: dict[str, Any] = {"count": int(mask.sum())}
        if task == "classification":
            row["selection_rate"] = float(np.mean(pred == positive)) if binary else None
            row["accuracy"] = float(np.mean(truth == pred))
            if binary:
                row["recall"] = (
                    float(np.mean(pred[truth == positive] == positive)) if (truth == positive).any() else None
                )
            else:
                row["recall"] = float(recall_score(truth, pred, average="macro", zero_division=0))
        else:
            row["mean_prediction"] = float(np.mean(pred))
            row["mae"] = float(mean_absolute_error(truth, pred))
        result[str(group)] = row
    compared = ("selection_rate", "recall") if task == "classification" else ("mean_prediction", "mae")
    differences = {}
    for metric in compared:
        values = [row[metric] for row in result.values() if row.get(metric) is not None]
        differences[metric] = float(max(values) - min(values)) if len(values) >= 2 else None
    return {"groups": result, "differences": differences}
