"""What `mlops init` infers from a table, each choice with the reason it prints. Pure functions over a data frame.

- task: strings, booleans and few-valued integers are classes (classification); anything else is a quantity
  (regression);
- id columns: a column (other than the target) whose values are all present and unique, of integer or string
  type, is a key: never a feature; the first is the id column that joins predictions to ground truth;
- feature types: the monitor's rule (floats numerical; strings, booleans, dates categorical; integers categorical
  when distinct values / rows < 0.05);
- positive label (binary): the conventional positive of a yes/no pair, else the rarer class;
- metric and gate: ROC AUC (binary), macro F1 (multiclass), R² (regression); `min_metric` is a dummy model's score
  on a held-out split plus a margin, so a model must beat guessing to be registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops.errors import MlopsError
from mlops.monitoring.metrics import CATEGORICAL, NUMERICAL, infer_column_type

CLASSIFICATION_MAX_CLASSES = 20
# An integer target with at most this many distinct values and distinct/rows under the monitor's 0.05 is a class.
INTEGER_CLASS_RATIO = 0.05
POSITIVE_WORDS = ("1", "true", "yes", "y", "positive", "pos", "t")
GATE_MARGIN = 0.05
METRIC_BY_KIND = {"binary": "roc_auc", "multiclass": "f1", "regression": "r2"}
MIN_ROWS = 100


@dataclass
class Inference:
    """The inferred values (model definition fields) and why each was chosen."""

    values: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def choose(self, name: str, value: Any, reason: str) -> Any:
        self.values[name] = value
        self.reasons.append(f"{name}: {_show(value)} — {reason}")
        return value


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    return "(none)" if value is None else str(value)


def infer_task(target: pd.Series) -> tuple[str, str]:
    """(`classification` | `regression`, reason)."""
    values = target.dropna()
    distinct = values.nunique()
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return (
            "classification",
            f"the target holds {'booleans' if pd.api.types.is_bool_dtype(dtype) else 'text'} ({distinct} classes)",
        )
    if (
        pd.api.types.is_integer_dtype(dtype)
        and distinct <= CLASSIFICATION_MAX_CLASSES
        and distinct / max(len(values), 1) < INTEGER_CLASS_RATIO
    ):
        return "classification", f"the target is an integer with {distinct} distinct values"
    return "regression", f"the target is numeric with {distinct} distinct values"


def id_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """Columns that are keys: complete, unique, integer or text."""
    keys = []
    for name in frame.columns:
        if name == target:
            continue
        values = frame[name]
        kind = values.dtype
        if not (
            pd.api.types.is_integer_dtype(kind)
            or pd.api.types.is_object_dtype(kind)
            or pd.api.types.is_string_dtype(kind)
        ):
            continue
        if values.notna().all() and values.is_unique:
            keys.append(str(name))
    return keys


def positive_label(target: pd.Series) -> tuple[Any, str]:
    classes = sorted(target.dropna().unique(), key=lambda v: str(v))
    words = {str(c).strip().lower(): c for c in classes}
    for word in POSITIVE_WORDS:
        if word in words:
            return _plain(words[word]), f"'{words[word]}' is the conventional positive of the pair {_pair(classes)}"
    counts = target.value_counts()
    rarer = counts.idxmin()
    return _plain(rarer), f"the rarer class ({counts[rarer]} of {int(counts.sum())} rows) of {_pair(classes)}"


def _pair(classes: list[Any]) -> str:
    return "/".join(str(c) for c in classes)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def infer(frame: pd.DataFrame, target: str, given: dict[str, Any]) -> Inference:
    """Infer a model definition's data fields; `given` (from flags) wins over every inference."""
    if target not in frame.columns:
        raise MlopsError(f"--target {target}: no such column (columns: {', '.join(map(str, frame.columns))})")
    if len(frame) < MIN_ROWS:
        raise MlopsError(f"the table has {len(frame)} rows; mlops init needs at least {MIN_ROWS} to train and hold out")
    labels = frame[target]
    if labels.isna().any():
        raise MlopsError(f"--target {target}: {int(labels.isna().sum())} row(s) have no value; drop or fill them first")
    result = Inference()
    task, why = infer_task(labels)
    task = result.choose("task", given.get("task") or task, "given" if given.get("task") else why)
    if task == "classification":
        _check_classes(labels)

    keys = id_columns(frame, target)
    id_column = given.get("id_column") or (keys[0] if keys else None)
    if id_column is None:
        raise MlopsError(
            "no id column: no column is complete and unique; add one (a row number) so predictions can be joined "
            "to ground truth, or name one with --id-column"
        )
    if id_column not in frame.columns:
        raise MlopsError(f"--id-column {id_column}: no such column")
    result.choose(
        "id_column", id_column, "given" if given.get("id_column") else "complete and unique: a key, not a feature"
    )
    excluded = {target, id_column, *keys, *given.get("drop", [])}
    if len(keys) > 1:
        result.reasons.append(f"not features: {', '.join(k for k in keys if k != id_column)} (also unique keys)")

    numeric, categorical = [], []
    for name in frame.columns:
        if name in excluded:
            continue
        kind = (
            NUMERICAL
            if name in given.get("numeric", [])
            else CATEGORICAL
            if name in given.get("categorical", [])
            else infer_column_type(frame[name])
        )
        (numeric if kind == NUMERICAL else categorical).append(str(name))
    if not numeric and not categorical:
        raise MlopsError("no feature columns are left after the target and the id columns")
    result.choose("numeric_features", numeric, "floats, and integers with many distinct values (the monitor's rule)")
    result.choose("categorical_features", categorical, "text, booleans, and integers with few distinct values")

    sensitive = given.get("sensitive_feature")
    if sensitive is not None and sensitive not in numeric + categorical:
        raise MlopsError(
            f"--sensitive-feature {sensitive}: not one of the features ({', '.join(numeric + categorical)})"
        )
    result.choose(
        "sensitive_feature",
        sensitive,
        "given" if sensitive else "none given (--sensitive-feature COL adds fairness metrics)",
    )

    kind = "regression" if task == "regression" else ("binary" if labels.nunique() == 2 else "multiclass")
    if kind == "binary":
        label, why = positive_label(labels)
        if "positive_label" in given:
            label, why = given["positive_label"], "given"
            if str(label) not in {str(c) for c in labels.unique()}:
                raise MlopsError(
                    f"--positive-label {label}: not a class of {target} ({_pair(sorted(labels.unique(), key=str))})"
                )
        result.choose("positive_label", label, why)
    metric = given.get("primary_metric") or METRIC_BY_KIND[kind]
    result.choose(
        "primary_metric", metric, "given" if given.get("primary_metric") else f"the usual measure for a {kind} model"
    )
    baseline = dummy_score(frame[numeric + categorical], labels, kind, metric, result.values.get("positive_label"))
    floor = given.get("min_metric")
    if floor is None:
        floor = round(min(baseline + GATE_MARGIN, 1.0), 3)
        why = f"a dummy model scores {baseline:.3f} on a held-out split; a model must beat that by {GATE_MARGIN}"
    else:
        why = "given"
    result.choose("min_metric", floor, why)
    return result


def _check_classes(labels: pd.Series) -> None:
    counts = labels.value_counts()
    if len(counts) > CLASSIFICATION_MAX_CLASSES or counts.min() < 2:
        hint = (
            f"{len(counts)} classes"
            if len(counts) > CLASSIFICATION_MAX_CLASSES
            else f"class {counts.idxmin()!r} has one row"
        )
        raise MlopsError(f"task classification: {hint}; the target looks continuous — use --task regression")


def dummy_score(features: pd.DataFrame, labels: pd.Series, kind: str, metric: str, positive: Any) -> float:
    """The metric a model that ignores the features reaches on a seeded 80/20 split."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.metrics import f1_score, r2_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    stratify = labels if kind != "regression" else None
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.2, random_state=0, stratify=stratify
    )
    if kind == "regression":
        model = DummyRegressor().fit(x_train, y_train)
        return float(r2_score(y_test, model.predict(x_test))) if metric == "r2" else 0.0
    model = DummyClassifier(strategy="prior").fit(x_train, y_train)
    if metric == "roc_auc" and kind == "binary":
        column = list(model.classes_).index(positive) if positive in list(model.classes_) else -1
        return float(roc_auc_score(y_test == model.classes_[column], model.predict_proba(x_test)[:, column]))
    if metric == "f1":
        return float(f1_score(y_test, model.predict(x_test), average="macro", zero_division=0))
    return float(np.mean(model.predict(x_test) == y_test))


def split_production(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, held-out production window): a seeded random share of the rows."""
    if not 0 < fraction < 0.5:
        raise MlopsError(f"--holdout {fraction}: expected a share of the rows between 0 and 0.5")
    production = frame.sample(frac=fraction, random_state=seed)
    return frame.drop(index=production.index), production
