"""MLflow on the local SQLite store: one experiment per pipeline, artifacts inside the state folder."""

from __future__ import annotations

import logging
import os
from typing import Any

from mlops.project.layout import StateDir

# Alembic prints every schema migration when MLflow creates a new SQLite store.
for noisy in ("alembic", "mlflow.store.db.utils"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def client(state: StateDir) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=state.tracking_uri, registry_uri=state.tracking_uri)


def experiment_id(mlflow_client: Any, state: StateDir, name: str) -> str:
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow_client.create_experiment(name, artifact_location=(state.artifacts / name).as_uri())
