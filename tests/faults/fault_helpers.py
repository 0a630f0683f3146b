"""What the fault-injection tests share: `mlops` as a subprocess, bounded waits, the processes and runs left over.

Importable from the tests in this folder (pytest puts a test module's folder on sys.path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

MLOPS = [sys.executable, "-m", "mlops.cli"]
EXIT_WAIT_S = 90  # for `mlops` to exit after a signal (a step gets 5 s of grace, a server 15 s)
START_WAIT_S = 180  # for a step or a server to be up (imports are slow on a busy 2-core machine)


def start_mlops(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`mlops ARGS` in the background, stdout and stderr captured."""
    return subprocess.Popen(
        [*MLOPS, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    """Wait (bounded) for `mlops` to exit; (exit code, stdout, stderr). Killed by PID if it does not."""
    try:
        out, err = process.communicate(timeout=EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=30)
        raise AssertionError(f"mlops did not exit within {EXIT_WAIT_S}s:\n{out}\n{err}") from None
    return process.returncode, out, err


def wait_until(check: Callable[[], Any], what: str, timeout: float = START_WAIT_S, process=None) -> Any:
    """Poll `check` until it returns something truthy (returned), at most `timeout` seconds; fail naming `what`.
    With `process`, fail at once (with its output) if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"mlops exited ({process.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def processes_naming(text: str, by_cwd: bool = True) -> list[psutil.Process]:
    """Live (not zombie) processes whose command line (or, by_cwd, working folder) mentions `text`, e.g. a run
    folder (a warm-started step's command line is the pre-started Python's; its working folder is the step's)."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        where = [*(process.info["cmdline"] or []), *([process.info["cwd"] or ""] if by_cwd else [])]
        if any(text in part for part in where):
            found.append(process)
    return found


def new_run_folder(runs: Path, known: set[Path]) -> Path | None:
    """The run folder that appeared since `known` was taken (one run at a time)."""
    new = [p for p in runs.glob("*") if p.is_dir() and p not in known] if runs.is_dir() else []
    return new[0] if len(new) == 1 else None


def run_folders(runs: Path) -> set[Path]:
    return set(runs.glob("*")) if runs.is_dir() else set()


def run_record(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text())


def mlflow_runs(tracking_uri: str) -> list[Any]:
    """Every run in the store, in every experiment."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    return list(client.search_runs(experiments, run_view_type=ViewType.ALL, max_results=10_000))
