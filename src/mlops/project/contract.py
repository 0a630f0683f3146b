"""Names the whole project shares, each read from the one file that owns it.

The training pipeline (`pipelines/train.yml`) owns the registered model's name and the id column; the online
endpoint YAML owns the endpoint's name. Other files that repeat them (deployments, the monitor, workflows) are
checked equal by `mlops validate` (`mlops.project.consistency`).
"""

from __future__ import annotations

from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout


def train_input(layout: Layout, name: str) -> Any:
    """A parent input of the training pipeline: its value, or its `default` when declared with a type."""
    inputs = loaders.read_yaml(layout.train_pipeline).get("inputs") or {}
    if name not in inputs:
        raise MlopsError(f"{layout.train_pipeline}: inputs.{name}: not declared")
    value = inputs[name]
    return value.get("default", value.get("value")) if isinstance(value, dict) else value


def model_name(layout: Layout) -> str:
    """The registered model's name: the training pipeline's `model_name` input."""
    return str(train_input(layout, "model_name"))
