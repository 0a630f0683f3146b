"""The model definition (`models/<name>.yml`): everything about one model, written once.

It is this template's own file, not an Azure ML schema: Azure reads the plain YAML written from it (the training
pipeline, the deployments, the monitor), and `mlops validate` checks every copy of a fact against it
(`mlops.project.consistency`). models/README.md documents each field.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.references import parse_ref

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class ModelFiles:
    """Where the model's Azure ML YAML lives, relative to the project root."""

    pipeline: str
    online: str
    batch: str
    monitor: str


@dataclass(frozen=True)
class ModelDefinition:
    name: str
    task: str
    target: str
    id_column: str
    numeric_features: list[str]
    categorical_features: list[str]
    training_data: str
    primary_metric: str
    min_metric: float
    min_improvement: float
    online_endpoint: str
    live_deployment: str
    batch_endpoint: str
    files: ModelFiles
    source: Path
    positive_label: Any = None
    sensitive_feature: str | None = None
    production_batches: list[str] = field(default_factory=list)
    ground_truth: str | None = None
    drift_manifest: str | None = None
    # The fairness gate: the largest disparity between the sensitive feature's groups the gate lets through, and
    # the measure (components/evaluate/src/fairness.py); None: no fairness check.
    max_disparity: float | None = None
    disparity_metric: str | None = None
    # The project's default model: the one verbs without --model use when there are several.
    default: bool = False

    @property
    def fairness_measure(self) -> str:
        """disparity_metric, or the task's usual one (fairness.py's names)."""
        default = "demographic_parity_difference" if self.task == "classification" else "mae_difference"
        return self.disparity_metric or default

    @property
    def features(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    def path(self, root: Path, which: str) -> Path:
        """The project file (or folder) `files.<which>` names."""
        return root / getattr(self.files, which)


REQUIRED = [f.name for f in fields(ModelDefinition) if f.name != "source" and f.default is f.default_factory]


def load_model_definition(path: Path) -> ModelDefinition:
    """Read and check one model definition; every error names the file and the field."""
    document = loaders.read_yaml(path)
    known = {f.name for f in fields(ModelDefinition)} - {"source"}
    for key in document:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise MlopsError(f"{path}: {key}: not a field of a model definition{hint} (see models/README.md)")
    missing = [name for name in REQUIRED if name not in document]
    if missing:
        raise MlopsError(f"{path}: missing field(s): {', '.join(missing)} (see models/README.md)")
    files = document["files"]
    if not isinstance(files, dict) or set(files) != {f.name for f in fields(ModelFiles)}:
        raise MlopsError(f"{path}: files: expected pipeline, online, batch and monitor (paths in the project)")
    values = {**document, "files": ModelFiles(**{k: str(v) for k, v in files.items()}), "source": path}
    for name in ("numeric_features", "categorical_features", "production_batches"):
        value = values.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise MlopsError(f"{path}: {name}: expected a list of names")
    definition = ModelDefinition(**values)
    _check(definition)
    return definition


def _check(model: ModelDefinition) -> None:
    where = model.source
    if model.task not in TASKS:
        raise MlopsError(f"{where}: task: expected one of {', '.join(TASKS)}, got {model.task!r}")
    if not isinstance(model.default, bool):
        raise MlopsError(f"{where}: default: expected true or false, got {model.default!r}")
    if model.source.stem != model.name:
        raise MlopsError(f"{where}: name: '{model.name}' must equal the file name ({model.source.stem})")
    overlap = set(model.numeric_features) & set(model.categorical_features)
    if overlap:
        raise MlopsError(f"{where}: {', '.join(sorted(overlap))} listed as both numeric and categorical")
    for column in (model.target, model.id_column):
        if column in model.features:
            raise MlopsError(f"{where}: '{column}' is the target or id column and cannot also be a feature")
    if model.sensitive_feature and model.sensitive_feature not in model.features:
        raise MlopsError(f"{where}: sensitive_feature: '{model.sensitive_feature}' is not one of the features")
    if model.max_disparity is not None:
        if not model.sensitive_feature:
            raise MlopsError(f"{where}: max_disparity: needs a sensitive_feature whose groups it compares")
        if not isinstance(model.max_disparity, (int, float)) or model.max_disparity < 0:
            raise MlopsError(f"{where}: max_disparity: expected a number >= 0, got {model.max_disparity!r}")
    if model.positive_label is not None and model.task != "classification":
        raise MlopsError(f"{where}: positive_label: only a classification model has one")
    references = {"training_data": model.training_data, "ground_truth": model.ground_truth}
    references.update({f"production_batches[{i}]": ref for i, ref in enumerate(model.production_batches)})
    for name, value in references.items():
        if value is not None:
            parse_ref(str(value), where=f"{where}: {name}")
