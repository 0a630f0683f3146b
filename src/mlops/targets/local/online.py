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

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.catalog import ModelRef
from mlops.project.layout import ModelLayout, StateDir
from mlops.targets.local.registry import materialize
from mlops.targets.local.sandbox import sandbox_environment

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
class Deployment:
    """What a managed online deployment YAML says about running the scoring code."""

    name: str
    endpoint: str
    code_dir: Path
    scoring_script: str
    environment_variables: dict[str, str]

    @classmethod
    def from_yaml(cls, path: Path) -> Deployment:
        entity = loaders.load_entity(path)
        code_dir, script = loaders.scoring_code(path, entity)
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


def deploy(layout: ModelLayout, model: ModelRef, port: int, deployment_file: Path | None = None) -> LocalServer:
    """Serve `model` with the deployment YAML's scoring code and variables on 127.0.0.1:`port`, like a managed
    online deployment (the twin of `targets.azure.online.OnlineRollout.deploy`). Default: the live deployment."""
    state = layout.state
    deployment = Deployment.from_yaml(deployment_file or layout.live_deployment)
    model_dir = materialize(state, model)
    collect_dir = state.collected_for(deployment.endpoint, deployment.name, model.name)
    log = state.serving / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = sandbox_environment(deployment.environment_variables, {"MLOPS_COLLECT_DIR": str(collect_dir)})
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
    (state.serving / "server.json").write_text(
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
    info = state.serving / "server.json"
    if not info.is_file():
        raise MlopsError("no local server recorded; start one with `mlops serve` or pass --url")
    return json.loads(info.read_text())["url"]
