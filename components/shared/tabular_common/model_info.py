"""What a candidate MLflow model says about itself: the metadata train_model (or local AutoML) writes into its
MLmodel file, checked against a step's inputs, and a binary model's positive class. Read by evaluate and rai."""

from __future__ import annotations

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
