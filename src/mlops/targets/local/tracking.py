"""MLflow on the local SQLite store: one experiment per pipeline, artifacts inside the state folder.

Stale runs. Every run the local target creates carries the identity of the `mlops` process that runs it (tags
`mlops.engine_pid` and `mlops.engine_start`, the process's start time, so a reused PID is not mistaken for it);
the run folder's `run.json` records the same while the run is `running`. An engine killed by SIGKILL, a crash or
a power cut cannot mark its runs, so every `mlops` verb that uses the local state calls `mark_stale_runs` first:
a RUNNING run whose engine is gone (its own, or that of the run it is nested in) becomes FAILED, with the reason in
the tag `mlops.stale_reason`. A run whose engine is alive, or that carries no engine at all, is left alone.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from mlops.project.layout import StateDir

# Alembic prints every schema migration when MLflow creates a new SQLite store.
for noisy in ("alembic", "mlflow.store.db.utils"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

ENGINE_PID_TAG = "mlops.engine_pid"
ENGINE_START_TAG = "mlops.engine_start"
STALE_TAG = "mlops.stale_reason"
PARENT_TAG = "mlflow.parentRunId"
RUN_RECORD = "run.json"
MAX_NESTING = 10  # how far up the parent chain a nested run's engine is looked for


def client(state: StateDir) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=state.tracking_uri, registry_uri=state.tracking_uri)


def experiment_id(mlflow_client: Any, state: StateDir, name: str) -> str:
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow_client.create_experiment(name, artifact_location=(state.artifacts / name).as_uri())


# --- which process is running ----------------------------------------------------------------------------------


def process_start(pid: int) -> str:
    """When process `pid` started, as `<boot id>:<clock ticks since boot>` (Linux /proc), or "" where unknown.
    With the PID it names one process: a PID reused later, even after a reboot, has another start."""
    fields = _proc_stat(pid)
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
    return f"{boot}:{fields[19]}" if fields else ""  # fields[0] is stat field 3; the start time is field 22


def process_running(pid: int, start: str = "") -> bool:
    """True when `pid` is a live process (not a zombie) and, if `start` was recorded, still the same process."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or another user's: our process is gone either way
        return False
    fields = _proc_stat(pid)
    if fields and fields[0] == "Z":
        return False
    now = process_start(pid)
    return not (start and now and now != start)


def engine_tags() -> dict[str, str]:
    """The identity of this `mlops` process, as tags on every run it creates."""
    return {ENGINE_PID_TAG: str(os.getpid()), ENGINE_START_TAG: process_start(os.getpid())}


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; None where there is no /proc or no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # field 2, the command name, may hold spaces and parentheses


# --- the run record and stale runs -----------------------------------------------------------------------------


def write_run_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Write `run.json` atomically (a rename): a kill mid-write leaves the previous record, never half of one."""
    staging = run_dir / f".{RUN_RECORD}.{os.getpid()}"
    staging.write_text(json.dumps(record, indent=2) + "\n")
    staging.replace(run_dir / RUN_RECORD)


def mark_stale_runs(state: StateDir) -> int:
    """Mark FAILED every RUNNING run whose `mlops` process is gone (see the module docstring); returns how many.
    Does nothing, and creates nothing, when the state has no tracking store yet."""
    if not (state.root / "mlflow.db").is_file():
        return 0
    from mlflow.entities import ViewType

    mlflow_client = client(state)
    experiments = [e.experiment_id for e in mlflow_client.search_experiments(view_type=ViewType.ALL)]
    if not experiments:
        return 0
    running, token = [], None
    while True:
        page = mlflow_client.search_runs(
            experiments, "attributes.status = 'RUNNING'", run_view_type=ViewType.ALL, page_token=token
        )
        running += list(page)
        token = page.token
        if not token:
            break
    marked = 0
    for run in running:
        engine = _engine_of(run, mlflow_client)
        if engine is None or process_running(*engine):
            continue
        reason = f"its mlops process (pid {engine[0]}) is gone; marked FAILED by mlops pid {os.getpid()}"
        mlflow_client.set_tag(run.info.run_id, STALE_TAG, reason)
        mlflow_client.set_terminated(run.info.run_id, "FAILED")
        _mark_run_folder(state.runs / run.info.run_id, reason)
        marked += 1
    return marked


def _engine_of(run: Any, mlflow_client: Any) -> tuple[int, str] | None:
    """(pid, start) of the engine of `run`, or of the nearest run it is nested in that names one."""
    for _ in range(MAX_NESTING):
        tags = run.data.tags
        if tags.get(ENGINE_PID_TAG, "").isdigit():
            return int(tags[ENGINE_PID_TAG]), tags.get(ENGINE_START_TAG, "")
        parent = tags.get(PARENT_TAG)
        if not parent:
            return None
        run = mlflow_client.get_run(parent)
    return None


def _mark_run_folder(run_dir: Path, reason: str) -> None:
    """A pipeline run's folder still saying `running` says `failed`, and why."""
    try:
        record = json.loads((run_dir / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return  # a step's run (no folder of its own), or no record
    if record.get("status") == "running":
        write_run_record(run_dir, {**record, "status": "failed", "reason": reason})
