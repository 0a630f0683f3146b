"""What the online and the batch deployment share: finding the mounted model, scoring it, the probability rule.

Both deployments upload the whole `endpoints/` folder (`code_configuration.code: ../`, `scoring_script:
online/score.py` or `batch/score.py`), so this file sits at the root of their code on Azure and locally; each
score.py puts that root on sys.path to import it. Like the scripts, it may use only the inference environment
(mlflow, scikit-learn, pandas, numpy), never the project package.

The probability rule (also in endpoints/README.md), the same for a response, the collected outputs and a batch
output row:

- binary model: `probability` = P(positive class): the `positive_label` of the MLmodel metadata (train_model
  records the pipeline's `positive_label` input, or the class that sorts last when none was given), the class the
  training metrics and the monitor treat as positive; a model saved without it: the class that sorts last
  (`classes_[1]`, e.g. 1 for 0/1 labels);
- multiclass model: `probability` = P(predicted class), plus `probability_<class>` = P(class) for every class, in
  the order of the model's classes (online: `probabilities` rows in the order of `classes`);
- a model without `predict_proba` (regression): no probability.

The prediction is the class of highest probability (what a scikit-learn classifier's `predict` returns), computed
from the one `predict_proba` pass. Probabilities are rounded to 6 decimals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DECIMALS = 6
PROBABILITY = "probability"


def find_model_dir(root: Path) -> Path:
    """The folder holding MLmodel under AZUREML_MODEL_DIR (Azure mounts the registered files one level down)."""
    candidates = sorted(root.rglob("MLmodel"), key=lambda p: len(p.parts))
    if not candidates:
        raise RuntimeError(f"no MLflow model (MLmodel file) under AZUREML_MODEL_DIR={root}")
    return candidates[0].parent


def model_identity(model_dir: Path) -> tuple[str, str]:
    """Azure mounts a registered model at .../azureml-models/<name>/<version>/...; the local target does the same."""
    parts = model_dir.resolve().parts
    if "azureml-models" in parts:
        index = parts.index("azureml-models")
        if len(parts) > index + 2:
            return parts[index + 1], parts[index + 2]
    return os.environ.get("MODEL_NAME", "unknown"), os.environ.get("MODEL_VERSION", "unknown")


def positive_label(metadata: dict[str, Any] | None) -> Any:
    """The positive class the MLmodel metadata records (None: not recorded, the class that sorts last)."""
    return (metadata or {}).get("positive_label")


@dataclass(frozen=True)
class Scores:
    """A model's answer for some rows: predictions, and for a classifier its classes and class probabilities."""

    predictions: np.ndarray
    classes: list[Any] | None = None
    proba: np.ndarray | None = None  # rows x classes, rounded to DECIMALS
    positive: int | None = None  # binary: the column of the positive class in `classes` (None: the last)

    @property
    def positive_class(self) -> Any:
        """A binary model's positive class (None for multiclass and regression)."""
        if self.classes is None or len(self.classes) != 2:
            return None
        return self.classes[-1 if self.positive is None else self.positive]

    def columns(self) -> dict[str, np.ndarray]:
        """`prediction` and the probability columns of the rule, one value per row."""
        columns: dict[str, np.ndarray] = {"prediction": self.predictions}
        if self.proba is None or self.classes is None:
            return columns
        if len(self.classes) == 2:
            columns[PROBABILITY] = self.proba[:, -1 if self.positive is None else self.positive]
            return columns
        columns[PROBABILITY] = self.proba.max(axis=1)
        for index, label in enumerate(self.classes):
            columns[f"{PROBABILITY}_{label}"] = self.proba[:, index]
        return columns


def score(model: Any, features: Any, positive: Any = None) -> Scores:
    """Score a fitted scikit-learn model (an MLflow model loaded with mlflow.sklearn); `positive`: the binary
    model's positive class (`positive_label(metadata)`), None for the class that sorts last."""
    if not hasattr(model, "predict_proba"):
        return Scores(np.asarray(model.predict(features)))
    proba = np.asarray(model.predict_proba(features), dtype="float64")
    classes = np.asarray(model.classes_)
    labels = [plain(c) for c in classes]
    return Scores(classes[proba.argmax(axis=1)], labels, proba.round(DECIMALS), positive_column(labels, positive))


def positive_column(classes: list[Any], positive: Any) -> int | None:
    """The column of the positive class of a binary model (None for multiclass), matched by text ("1" is 1)."""
    if len(classes) != 2:
        return None
    if positive is None:
        return len(classes) - 1
    texts = [label_text(c) for c in classes]
    if label_text(positive) not in texts:
        raise RuntimeError(f"the model's positive_label {positive!r} is not one of its classes {texts}")
    return texts.index(label_text(positive))


def label_text(value: Any) -> str:
    """A class label as text (what a column name `probability_<class>` and the positive label are matched on)."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (for JSON)."""
    return value.item() if hasattr(value, "item") else value
