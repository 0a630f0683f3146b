"""Error analysis: the cohorts of rows where the model errs most, as Azure's error analysis finds them - a shallow
decision tree fitted to where the model errs, each leaf a cohort described by its feature conditions - plus each
feature's own cohorts (numeric quartiles, categories).

An error is a wrong class for classification; for regression an absolute error in the worst quarter of the rows.
Cohorts smaller than `min_rows` are not reported (their error rates are noise).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd


def errors_of(task: str, truth: Any, predicted: Any) -> np.ndarray:
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if task == "classification":
        return truth != predicted
    absolute = np.abs(truth.astype(float) - predicted.astype(float))
    return absolute > np.quantile(absolute, 0.75)


def tree_cohorts(
    features: pd.DataFrame, errors: np.ndarray, *, min_rows: int, max_depth: int = 3, seed: int = 0
) -> list[dict[str, Any]]:
    """The leaves of a tree fitted to the errors, worst first: {conditions, rows, errors, error_rate}."""
    from sklearn.tree import DecisionTreeClassifier

    encoded = pd.get_dummies(features, prefix_sep="=", dtype=float)
    encoded = encoded.fillna(encoded.median(numeric_only=True)).fillna(0.0)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_rows, random_state=seed)
    tree.fit(encoded, errors)
    leaves = tree.apply(encoded)
    structure = tree.tree_
    paths: dict[int, list[str]] = {}

    def walk(node: int, conditions: list[str]) -> None:
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            paths[node] = conditions
            return
        name, threshold = encoded.columns[structure.feature[node]], structure.threshold[node]
        column, _, category = name.partition("=")
        if category and column in features.columns and not _numeric(features[column]):
            walk(left, [*conditions, f"{column} != {category}"])
            walk(right, [*conditions, f"{column} = {category}"])
        else:
            walk(left, [*conditions, f"{name} <= {threshold:.4g}"])
            walk(right, [*conditions, f"{name} > {threshold:.4g}"])

    walk(0, [])
    cohorts = []
    for leaf, conditions in paths.items():
        mask = leaves == leaf
        cohorts.append(_cohort(" and ".join(conditions) or "all rows", mask, errors))
    return sorted(cohorts, key=lambda c: (c["error_rate"], c["rows"]), reverse=True)


def feature_cohorts(features: pd.DataFrame, errors: np.ndarray, *, min_rows: int) -> list[dict[str, Any]]:
    """Each feature's quartiles (numeric) or categories, worst first."""
    cohorts = []
    for name in features.columns:
        column = features[name]
        if not _numeric(column):
            groups = {
                f"{name} = {value}": (column.astype(str) == str(value)).to_numpy() for value in column.dropna().unique()
            }
        else:
            edges = np.unique(np.nanquantile(column.to_numpy(dtype=float), [0, 0.25, 0.5, 0.75, 1]))
            groups = {}
            for low, high in itertools.pairwise(edges):
                last = high == edges[-1]
                mask = (column >= low) & ((column <= high) if last else (column < high))
                groups[f"{low:.4g} <= {name} {'<=' if last else '<'} {high:.4g}"] = mask.to_numpy()
        if column.isna().any():
            groups[f"{name} missing"] = column.isna().to_numpy()
        cohorts += [_cohort(label, mask, errors) for label, mask in groups.items() if mask.sum() >= min_rows]
    return sorted(cohorts, key=lambda c: (c["error_rate"], c["rows"]), reverse=True)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _cohort(conditions: str, mask: np.ndarray, errors: np.ndarray) -> dict[str, Any]:
    rows = int(mask.sum())
    wrong = int(errors[mask].sum())
    return {"conditions": conditions, "rows": rows, "errors": wrong, "error_rate": wrong / rows if rows else 0.0}
