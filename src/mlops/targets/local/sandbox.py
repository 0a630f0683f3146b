"""The one environment every process the local target starts runs in (pipeline steps, the inference server,
batch scoring workers), so each sees what Azure ML would give it and nothing of this machine's engine.

- the variables Azure ML itself sets (`AZUREML_*`), MLflow's (`MLFLOW_*`; `_MLFLOW_*`, the engine's telemetry
  session) and Python's (`PYTHON*`) are removed from the caller's environment, then set again by the engine where
  the process needs them;
- `PYTHONPATH` holds only the guard folder, whose `sitecustomize` makes `import mlops` fail as it would on Azure;
- the venv's `bin` comes first on PATH (console scripts of the environment's packages resolve as in a container);
- the variables the YAML declares (`environment_variables`) come next, then what the engine must set (the MLflow
  run, the model folder, the collection folder), which the YAML cannot override.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import mlops

GUARD_DIR = Path(__file__).parent / "guard"
STRIPPED_PREFIXES = ("AZUREML_", "MLFLOW_", "_MLFLOW_", "PYTHON")


def sandbox_environment(declared: Mapping[str, str] | None = None, engine: Mapping[str, str] | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES)}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        PYTHONPATH=str(GUARD_DIR),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        MLOPS_BLOCKED_PACKAGES=mlops.__name__,
    )
    env.update({k: str(v) for k, v in (declared or {}).items()})
    env.update(engine or {})
    return env
