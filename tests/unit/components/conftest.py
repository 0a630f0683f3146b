"""Fixtures for the component tests.

The component modules are imported side by side: `components/shared` (for `tabular_common`) and every
`components/*/src` go on sys.path, which is why module names are unique across components. Script tests run a
component the way Azure ML and the local executor do: in a snapshot folder (its `src/` plus
`shared/tabular_common` copied to the root), as a subprocess, against a SQLite MLflow store, attached to a
pre-created child run through MLFLOW_RUN_ID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from component_command import COMPONENTS, SCRIPTS

SHARED = COMPONENTS / "shared"

for _path in [SHARED, *sorted(COMPONENTS.glob("*/src"))]:
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def diabetes_like(n: int = 240, seed: int = 0, task: str = "classification") -> pd.DataFrame:
    """A small synthetic data set shaped like the diabetes sample: numeric, categorical, sensitive, id, target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(1000, 1000 + n),
            "plasma_glucose": rng.normal(120, 30, n).round(1),
            "bmi": rng.normal(30, 6, n).round(1),
            "age": rng.integers(21, 80, n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    signal = (frame["plasma_glucose"] - 120) / 20 + (frame["bmi"] - 30) / 8 + rng.normal(0, 1, n)
    if task == "classification":
        frame["diabetic"] = (signal > 0).astype("int64")
    else:
        frame["progression"] = (100 + 25 * signal).round(2)
    frame.loc[3, "bmi"] = np.nan
    return frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return diabetes_like()


@pytest.fixture(scope="session")
def make_frame() -> Callable[..., pd.DataFrame]:
    return diabetes_like


@dataclass
class MlflowStore:
    root: Path
    uri: str
    experiment_id: str

    def client(self) -> Any:
        import mlflow

        return mlflow.MlflowClient(self.uri, self.uri)

    def step_run(self, name: str) -> str:
        """A child run of a fresh pipeline run, tagged like the executor (and Azure ML) tags step runs."""
        client = self.client()
        parent = client.create_run(self.experiment_id, tags={"mlflow.source.git.commit": GIT_COMMIT})
        child = client.create_run(
            self.experiment_id,
            run_name=name,
            tags={"mlflow.parentRunId": parent.info.run_id, "mlflow.source.git.commit": GIT_COMMIT},
        )
        return child.info.run_id

    def env(self, run_id: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTHON", "AZUREML_"))}
        env.update(
            MLFLOW_TRACKING_URI=self.uri,
            MLFLOW_REGISTRY_URI=self.uri,
            MLFLOW_EXPERIMENT_ID=self.experiment_id,
            MLFLOW_RUN_ID=run_id,
            MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """One SQLite store for the session (creating its tables takes about a second); artifacts under tmp."""
    import mlflow

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri, uri)
    experiment_id = client.create_experiment("components", artifact_location=(root / "artifacts").as_uri())
    return MlflowStore(root, uri, experiment_id)


@pytest.fixture
def model_name() -> str:
    """A registered model name of its own per test, so registry tests never see each other's versions."""
    return f"model-{uuid.uuid4().hex[:8]}"


def build_snapshot(component: str, destination: Path) -> Path:
    """What Azure ML uploads: the code folder's contents plus each additional include under its basename."""
    shutil.copytree(COMPONENTS / component / "src", destination, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        SHARED / "tabular_common",
        destination / "tabular_common",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return destination


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("snapshots")
    return {name: build_snapshot(name, root / name) for name in SCRIPTS}


RunComponent = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def run_component(snapshots: dict[str, Path], mlflow_store: MlflowStore) -> RunComponent:
    """run_component("prep", ["--raw_data", ...], run_id=None) → CompletedProcess (cwd = the snapshot)."""

    def run(component: str, args: list[str], run_id: str | None = None) -> subprocess.CompletedProcess:
        run_id = run_id or mlflow_store.step_run(component)
        return subprocess.run(
            [sys.executable, SCRIPTS[component], *map(str, args)],
            cwd=snapshots[component],
            env=mlflow_store.env(run_id),
            capture_output=True,
            text=True,
            timeout=180,
        )

    return run


@pytest.fixture
def inprocess_mlflow(mlflow_store: MlflowStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """For calling a component's main() in the test process: point MLflow at the store and a step run."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store.uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", mlflow_store.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", mlflow_store.experiment_id)

    def attach(step: str) -> str:
        run_id = mlflow_store.step_run(step)
        monkeypatch.setenv("MLFLOW_RUN_ID", run_id)
        return run_id

    yield attach
