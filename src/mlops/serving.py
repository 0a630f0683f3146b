"""Serve a registered model locally with the real Azure ML inference server, as a managed deployment would.

The model is taken from the local MLflow registry (a version, or the champion) and laid out the way Azure mounts
it (`azureml-models/<name>/<version>/...` under AZUREML_MODEL_DIR); the scoring script, its folder and its
environment variables come from the deployment YAML (`endpoints/online/blue.yml`). The server is azmlinfsrv's
own start-up code with one change: it binds 127.0.0.1 instead of 0.0.0.0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops import azureml, tracking
from mlops.errors import MlopsError
from mlops.project import TRAIN_PIPELINE, StateDir

DEFAULT_DEPLOYMENT = Path("endpoints") / "online" / "blue.yml"
DEFAULT_PORT = 5001
HEALTH_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30
# azmlinfsrv's own entry point, binding loopback only: tests and laptops must not expose the model.
LAUNCHER = (
    "import sys\n"
    "from azureml_inference_server_http import amlserver\n"
    "amlserver.DEFAULT_HOST = '127.0.0.1'\n"
    "sys.argv = ['azmlinfsrv', *sys.argv[1:]]\n"
    "amlserver.run()\n"
)


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


def default_model_name(root: Path) -> str:
    """The registered model name is written once: the training pipeline's `model_name` input."""
    return str(azureml.read_yaml(root / TRAIN_PIPELINE)["inputs"]["model_name"])


def resolve_model(state: StateDir, spec: str) -> ModelRef:
    """`NAME:VERSION`, or `NAME` for the version tagged champion=true (highest if several)."""
    name, _, version = spec.partition(":")
    client = tracking.client(state)
    versions = _search_versions(client, name)
    if not versions:
        raise MlopsError(f"model '{name}' is not registered in {state.tracking_uri}; run `mlops run` first")
    if version:
        if version not in {v.version for v in versions}:
            known = ", ".join(sorted((v.version for v in versions), key=int))
            raise MlopsError(f"model '{name}' has no version {version} (registered: {known})")
        return ModelRef(name, version)
    champions = [v for v in versions if (v.tags or {}).get("champion") == "true"]
    if not champions:
        raise MlopsError(f"model '{name}' has no version tagged champion=true; name one with --model {name}:<version>")
    return ModelRef(name, str(max(int(v.version) for v in champions)))


def _search_versions(client: Any, name: str) -> list[Any]:
    from mlflow.exceptions import MlflowException

    try:
        return list(client.search_model_versions(f"name='{name}'"))
    except MlflowException:
        return []


def materialize(state: StateDir, model: ModelRef) -> Path:
    """Download the registered files once into state/serving/azureml-models/<name>/<version>/model; returns
    the folder to use as AZUREML_MODEL_DIR (…/<name>/<version>), like Azure's mount."""
    import mlflow

    version_dir = state.root / "serving" / "azureml-models" / model.name / model.version
    if not (version_dir / "model" / "MLmodel").is_file():
        staging = version_dir.with_name(f".{model.version}.partial")
        if staging.exists():
            import shutil

            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        mlflow.set_tracking_uri(state.tracking_uri)
        mlflow.set_registry_uri(state.tracking_uri)
        mlflow.artifacts.download_artifacts(f"models:/{model.name}/{model.version}", dst_path=str(staging / "model"))
        if version_dir.exists():
            import shutil

            shutil.rmtree(version_dir)
        staging.rename(version_dir)
    return version_dir


@dataclass(frozen=True)
class Deployment:
    """What a managed online deployment YAML says about running the scoring code."""

    name: str
    endpoint: str
    code_dir: Path
    scoring_script: str
    environment_variables: dict[str, str]

    @classmethod
    def from_yaml(cls, path: Path) -> Deployment:
        entity = azureml.load_entity(path)
        code_dir, script = azureml.scoring_code(path, entity)
        variables = {k: str(v) for k, v in (entity.environment_variables or {}).items()}
        return cls(entity.name, entity.endpoint_name, code_dir, script, variables)


@dataclass
class LocalServer:
    url: str
    pid: int
    model: ModelRef
    log: Path
    collect_dir: Path
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        """Stop by PID (the whole process group: gunicorn's workers too)."""
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if self.process is not None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    root: Path, state: StateDir, model: ModelRef, port: int, deployment_file: Path | None = None
) -> LocalServer:
    deployment = Deployment.from_yaml(deployment_file or root / DEFAULT_DEPLOYMENT)
    model_dir = materialize(state, model)
    collect_dir = state.root / "collected" / deployment.endpoint / deployment.name
    log = state.root / "serving" / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    guard = Path(__file__).parent / "guard"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "PYTHON"))}
    env.update(deployment.environment_variables)
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        PYTHONPATH=str(guard),
        MLOPS_BLOCKED_PACKAGES="mlops",
        MLOPS_COLLECT_DIR=str(collect_dir),
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable, "-c", LAUNCHER,
        "--entry_script", str(deployment.code_dir / deployment.scoring_script),
        "--model_dir", str(model_dir),
        "--port", str(port),
    ]  # fmt: skip
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, cwd=deployment.code_dir, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LocalServer(f"http://127.0.0.1:{port}", process.pid, model, log, collect_dir, process)
    try:
        _wait_until_healthy(server, process)
    except BaseException:
        server.stop()
        raise
    (state.root / "serving" / "server.json").write_text(
        json.dumps({"url": server.url, "pid": server.pid, "model": str(model), "log": str(log)}) + "\n"
    )
    return server


def _wait_until_healthy(server: LocalServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(server.log.read_text(errors="replace").splitlines()[-15:])
            raise MlopsError(f"the inference server exited with code {process.returncode}; log {server.log}:\n{tail}")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise MlopsError(
        f"the inference server did not answer on {server.url} within {HEALTH_TIMEOUT_S}s; log {server.log}"
    )


def invoke(
    url: str, body: bytes, timeout: float = REQUEST_TIMEOUT_S, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """POST a scoring request; returns (status, parsed JSON body)."""
    request = urllib.request.Request(
        url.rstrip("/") + "/score", data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except json.JSONDecodeError:
            return error.code, text.decode(errors="replace")
    except (urllib.error.URLError, ConnectionError) as exc:
        raise MlopsError(f"no inference server at {url} ({exc}); start one with `mlops serve`") from exc


def running_server_url(state: StateDir) -> str:
    info = state.root / "serving" / "server.json"
    if not info.is_file():
        raise MlopsError("no local server recorded; start one with `mlops serve` or pass --url")
    return json.loads(info.read_text())["url"]
