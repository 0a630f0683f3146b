"""The local model registry (MLflow on SQLite): registered versions laid out as Azure mounts them.

Which version a spec names (`NAME:VERSION`, or `NAME` for its champion) is the catalog's job
(`LocalCatalog.model`); this module turns a version into files. Its Azure twin is `targets.azure.registry`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mlops.project.catalog import ModelRef
from mlops.project.layout import StateDir


def materialize(state: StateDir, model: ModelRef) -> Path:
    """Download the registered files once into state/serving/azureml-models/<name>/<version>/model; returns
    the folder to use as AZUREML_MODEL_DIR (…/<name>/<version>), like Azure's mount."""
    import mlflow

    version_dir = state.serving / "azureml-models" / model.name / model.version
    if not (version_dir / "model" / "MLmodel").is_file():
        staging = version_dir.with_name(f".{model.version}.partial")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        # A client of this store, not mlflow.set_*_uri: those are process-wide and would redirect every later
        # client (and MLflow resolves a models:/ URI through the process-wide registry whatever it is passed).
        client = mlflow.MlflowClient(tracking_uri=state.tracking_uri, registry_uri=state.tracking_uri)
        source = client.get_model_version_download_uri(model.name, model.version)
        downloaded = mlflow.artifacts.download_artifacts(source, dst_path=str(staging), tracking_uri=state.tracking_uri)
        Path(downloaded).rename(staging / "model")  # a folder source lands under its own name
        if version_dir.exists():
            shutil.rmtree(version_dir)
        staging.rename(version_dir)
    return version_dir
