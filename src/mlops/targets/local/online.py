"""Serve a registered model locally with the real Azure ML inference server, as a managed deployment would.

The model is taken from the local MLflow registry (a version, or the champion) and laid out the way Azure mounts
it (`azureml-models/<name>/<version>/...` under AZUREML_MODEL_DIR); the scoring script, its folder and its
environment variables come from the deployment YAML (`endpoints/online/blue.yml`). The server is azmlinfsrv's
own start-up code with one change: it binds 127.0.0.1 instead of 0.0.0.0. It runs the YAML's WORKER_COUNT
workers (as Azure does on one instance), at most one per core of this machine.

Ownership. A busy port is refused before anything starts (`check_port_free`): the other server, its log and its
`server.json` are left alone. Our server runs in a process group of its own that dies with `mlops`
(`processes.start_group`), its output goes to `server-<port>.starting.log`, and only once it answers the health
check and the port's listening socket is verified to belong to its process group does the log become
`server-<port>.log` and `serving/server.json` record it (URL, PID and the PID's start time). `stop()` stops the
group by PID (SIGTERM, a grace, SIGKILL) and removes `server.json` if it records this server. A `server.json` whose
process is gone is stale: `deploy` removes it and `running_server_url` refuses it. The thread that calls `deploy`
must outlive the server (the parent-death signal follows the thread that started it).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import Interrupted, MlopsError
from mlops.project import loaders
from mlops.project.catalog import ModelRef
from mlops.project.layout import ModelLayout, StateDir
from mlops.targets.local import tracking
from mlops.targets.local.processes import start_group, stop_group
from mlops.targets.local.registry import materialize
from mlops.targets.local.sandbox import sandbox_environment

HOST = "127.0.0.1"
# azmlinfsrv runs WORKER_COUNT gunicorn workers, 1 when it is not set (azureml_inference_server_http/constants.py:
# ENV_WORKER_COUNT, DEFAULT_WORKER_COUNT); a deployment sets it in its YAML's environment_variables.
WORKER_COUNT = "WORKER_COUNT"
DEFAULT_WORKER_COUNT = 1
DEFAULT_PORT = 5001
HEALTH_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30
STOP_GRACE_S = 15  # gunicorn finishes its requests on SIGTERM
SERVER_RECORD = "server.json"
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
    source: Path

    @classmethod
    def from_yaml(cls, path: Path) -> Deployment:
        entity = loaders.load_entity(path)
        code_dir, script = loaders.scoring_code(path, entity)
        variables = {k: str(v) for k, v in (entity.environment_variables or {}).items()}
        return cls(entity.name, entity.endpoint_name, code_dir, script, variables, path)

    def worker_count(self) -> int:
        """The inference server's workers on one instance: the YAML's WORKER_COUNT, else azmlinfsrv's default."""
        text = self.environment_variables.get(WORKER_COUNT, "").strip()
        if not text:
            return DEFAULT_WORKER_COUNT
        if not text.isdigit() or int(text) < 1:
            raise MlopsError(
                f"{self.source}: environment_variables.{WORKER_COUNT}: expected an integer >= 1, got {text!r}"
            )
        return int(text)


def local_worker_count(declared: int, cores: int | None = None) -> int:
    """The deployment's worker count, at most one per core of this machine (an Azure instance type has the cores
    its WORKER_COUNT is sized for; more workers than cores here would only compete)."""
    return max(1, min(declared, cores or usable_cores()))


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass
class LocalServer:
    url: str
    pid: int
    model: ModelRef
    log: Path
    collect_dir: Path
    process: subprocess.Popen | None = None
    workers: int = DEFAULT_WORKER_COUNT

    def stop(self) -> None:
        """Stop by PID (the whole process group: gunicorn's workers too) and forget `server.json` if it is ours."""
        if self.process is not None:
            stop_group(self.process, STOP_GRACE_S)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
        record = _read_record(self.log.parent)
        if record and record.get("pid") == self.pid:
            (self.log.parent / SERVER_RECORD).unlink(missing_ok=True)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_port_free(port: int) -> None:
    """Refuse a port another process holds on 127.0.0.1 (exit 2), before anything is started or written."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no owner
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise MlopsError(f"port {port} on {HOST} is in use; pass --port ({exc.strerror})") from None


def deploy(layout: ModelLayout, model: ModelRef, port: int, deployment_file: Path | None = None) -> LocalServer:
    """Serve `model` with the deployment YAML's scoring code and variables on 127.0.0.1:`port`, like a managed
    online deployment (the twin of `targets.azure.online.OnlineRollout.deploy`). Default: the live deployment."""
    check_port_free(port)
    state = layout.state
    deployment = Deployment.from_yaml(deployment_file or layout.live_deployment)
    workers = local_worker_count(deployment.worker_count())
    model_dir = materialize(state, model)
    collect_dir = state.collected_for(deployment.endpoint, deployment.name, model.name)
    state.serving.mkdir(parents=True, exist_ok=True)
    _forget_stale_record(state.serving)
    starting = state.serving / f"server-{port}.starting.log"
    # score.py collects into MLOPS_COLLECT_DIR (model_inputs, model_outputs, operational), naming MLOPS_DEPLOYMENT
    engine = {"MLOPS_COLLECT_DIR": str(collect_dir), "MLOPS_DEPLOYMENT": deployment.name, WORKER_COUNT: str(workers)}
    env = sandbox_environment(deployment.environment_variables, engine)
    command = [
        sys.executable, "-c", LAUNCHER,
        "--entry_script", str(deployment.code_dir / deployment.scoring_script),
        "--model_dir", str(model_dir),
        "--port", str(port),
    ]  # fmt: skip
    with starting.open("w") as handle:
        process = start_group(  # see the module docstring on threads
            command, cwd=deployment.code_dir, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    server = LocalServer(f"http://{HOST}:{port}", process.pid, model, starting, collect_dir, process, workers)
    try:
        _wait_until_healthy(server, process)
        _check_listener_is_ours(server, port)
    except BaseException as exc:
        server.stop()
        if isinstance(exc, Interrupted):
            exc.stopped.append(f"server pid {server.pid} stopped before it was ready")
        raise
    server.log = starting.replace(state.serving / f"server-{port}.log")
    record = {"url": server.url, "pid": server.pid, "start": tracking.process_start(server.pid), "port": port}
    staging = state.serving / f".{SERVER_RECORD}.{os.getpid()}"
    staging.write_text(json.dumps({**record, "model": str(model), "log": str(server.log)}) + "\n")
    staging.replace(state.serving / SERVER_RECORD)
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


def _check_listener_is_ours(server: LocalServer, port: int) -> None:
    """The health answer came from our process group, not from a server that took the port after the check
    (Linux /proc; elsewhere it is enough that ours is still running)."""
    if server.process is not None and server.process.poll() is not None:
        raise MlopsError(f"our inference server (pid {server.pid}) exited while port {port} answered; pass --port")
    if _group_listens(server.pid, port) is False:
        raise MlopsError(f"port {port} on {HOST} answered, but not from our server (pid {server.pid}); pass --port")


def _group_listens(group: int, port: int) -> bool | None:
    """Whether a process of `group` holds a socket listening on 127.0.0.1:`port` (or on all addresses); None
    where /proc does not say."""
    try:
        table = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    except OSError:
        return None
    addresses = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    sockets = {f"socket:[{row[9]}]" for row in table if row[1] in addresses and row[3] == "0A"}  # 0A: LISTEN
    members = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    for entry in members:
        try:
            if os.getpgid(int(entry.name)) == group and any(
                os.readlink(fd) in sockets for fd in (entry / "fd").iterdir()
            ):
                return True
        except OSError:  # gone meanwhile
            continue
    return False


def _read_record(serving: Path) -> dict[str, Any] | None:
    try:
        return json.loads((serving / SERVER_RECORD).read_text())
    except (OSError, ValueError):
        return None


def _forget_stale_record(serving: Path) -> None:
    """A `server.json` whose process is gone (or unreadable) is stale: remove it, so nothing trusts it."""
    if not (serving / SERVER_RECORD).exists():
        return
    record = _read_record(serving)
    pid = record.get("pid") if record else None
    if not isinstance(pid, int) or not tracking.process_running(pid, record.get("start", "")):
        (serving / SERVER_RECORD).unlink(missing_ok=True)


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
    """The URL `mlops serve` recorded, if that server is still running."""
    info = state.serving / SERVER_RECORD
    record = _read_record(state.serving)
    if record is None:
        raise MlopsError("no local server recorded; start one with `mlops serve` or pass --url")
    pid = record.get("pid")
    if not isinstance(pid, int) or not tracking.process_running(pid, record.get("start", "")):
        raise MlopsError(
            f"{info}: the server it records (pid {pid}) is no longer running; start one with `mlops serve`"
        )
    return record["url"]
