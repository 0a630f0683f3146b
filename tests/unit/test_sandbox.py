"""Every process the local target starts gets the same sandbox environment (steps, the inference server, batch
workers): nothing of the engine's own Python, MLflow or Azure variables leaks in; the YAML's variables apply; the
engine's own settings win over the YAML's."""

from __future__ import annotations

import subprocess
import sys

from mlops.targets.local.sandbox import GUARD_DIR, sandbox_environment


def test_engine_variables_are_stripped_and_the_guard_is_on_the_path(monkeypatch):
    monkeypatch.setenv("MLFLOW_RUN_ID", "leaked-run")
    monkeypatch.setenv("_MLFLOW_TELEMETRY_SESSION_ID", "the-engine-s")  # set by MLflow once the engine has a client
    monkeypatch.setenv("AZUREML_MODEL_DIR", "/leaked")
    monkeypatch.setenv("PYTHONHOME", "/leaked")
    monkeypatch.setenv("KEEP_ME", "yes")
    env = sandbox_environment()
    assert "MLFLOW_RUN_ID" not in env and "AZUREML_MODEL_DIR" not in env and "PYTHONHOME" not in env
    assert "_MLFLOW_TELEMETRY_SESSION_ID" not in env
    assert env["KEEP_ME"] == "yes"
    assert env["PYTHONPATH"] == str(GUARD_DIR)
    assert env["MLOPS_BLOCKED_PACKAGES"] == "mlops"


def test_declared_variables_apply_and_the_engine_wins():
    env = sandbox_environment({"ID_COLUMN": "patient_id", "AZUREML_MODEL_DIR": "from-yaml"}, {"AZUREML_MODEL_DIR": "x"})
    assert env["ID_COLUMN"] == "patient_id"
    assert env["AZUREML_MODEL_DIR"] == "x"


def test_a_sandboxed_process_cannot_import_the_project_package():
    done = subprocess.run(
        [sys.executable, "-c", "import mlops"], env=sandbox_environment(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "cannot import the project package" in done.stderr


def test_every_launcher_uses_the_one_sandbox():
    """The step runner, the inference server and the batch driver build their environment in one place."""
    from pathlib import Path

    import mlops.targets.local as local

    folder = Path(local.__file__).parent
    users = sorted(p.name for p in folder.glob("*.py") if "sandbox_environment(" in p.read_text())
    assert users == ["batch.py", "jobs.py", "online.py", "sandbox.py"]
    for path in folder.glob("*.py"):
        assert "os.environ.items()" not in path.read_text() or path.name == "sandbox.py", path.name
