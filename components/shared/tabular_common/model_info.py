"""What a candidate MLflow model says about itself: the metadata train_model (and local AutoML) write into its
MLmodel file (`model_metadata`, `pinned`), checked against a step's inputs, and a binary model's positive class
(read by evaluate and rai)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from tabular_common.errors import DataError
from tabular_common.metrics import label_text


def candidate_metadata(model_folder: str, task: str, target_column: str) -> dict[str, Any]:
    """The MLmodel metadata written by train_model, checked against this step's inputs."""
    from mlflow.models import Model

    mlmodel = Path(model_folder) / "MLmodel"
    if not mlmodel.is_file():
        raise DataError(f"model: {model_folder} is not an MLflow model folder (no MLmodel file)")
    model = Model.load(str(model_folder))
    metadata = dict(model.metadata or {})
    if "numeric_features" not in metadata and "categorical_features" not in metadata:
        if model.signature is None:
            raise DataError(f"{mlmodel}: no feature lists in metadata and no signature")
        inputs = model.signature.inputs.to_dict()
        metadata["numeric_features"] = [c["name"] for c in inputs if c.get("type") != "string"]
        metadata["categorical_features"] = [c["name"] for c in inputs if c.get("type") == "string"]
    if metadata.get("task", task) != task:
        raise DataError(f"task: '{task}' does not match the model's task '{metadata['task']}' ({mlmodel})")
    if metadata.get("target_column", target_column) != target_column:
        raise DataError(
            f"target_column: '{target_column}' does not match the model's target '{metadata['target_column']}'"
        )
    return metadata


def positive_label_of(model: Any, metadata: dict[str, Any]) -> Any:
    """The binary model's positive class: the MLmodel's `positive_label` (train_model records it), else — a model
    saved before it was recorded — the class that sorts last. None for multiclass and regression."""
    classes = list(getattr(model, "classes_", []))
    if len(classes) != 2:
        return None
    recorded = metadata.get("positive_label")
    if recorded is None:
        return classes[-1]
    texts = [label_text(label) for label in classes]
    if label_text(recorded) not in texts:
        raise DataError(f"model: positive_label {recorded!r} in the MLmodel metadata is not one of its classes {texts}")
    return classes[texts.index(label_text(recorded))]


def model_metadata(run_id: str, spec: Any, estimator: str, model: Any, positive_label: Any = None) -> dict[str, Any]:
    """What scoring, evaluation and monitoring read from the MLmodel file (`spec`: a schema.ColumnSpec).
    `positive_label` (binary classification): the class whose probability is `probability` and whose
    precision/recall the metrics report."""
    meta: dict[str, Any] = {
        "training_run_id": run_id,
        "task": spec.task,
        "target_column": spec.target,
        "numeric_features": list(spec.numeric),
        "categorical_features": list(spec.categorical),
        "estimator": estimator,
    }
    if spec.task == "classification":
        meta["classes"] = [plain(label) for label in model.classes_]
        if positive_label is not None:
            meta["positive_label"] = plain(positive_label)
    return meta


def pinned(packages: Iterable[str]) -> list[str]:
    """`name==version` of each installed package: a saved model's requirements, written instead of MLflow's
    inference (which loads the model in a subprocess and picks up whatever the interpreter has imported)."""
    return [f"{name}=={package_metadata.version(name)}" for name in packages]


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (the MLmodel file is YAML)."""
    return value.item() if hasattr(value, "item") else value
