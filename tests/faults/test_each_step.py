"""The real training pipeline stopped in each of its steps, one signal per step, in one fresh state folder.

prep gets SIGINT, train SIGTERM, evaluate SIGKILL, register SIGTERM: each run is stopped as soon as that step's
process exists (every step takes seconds: its imports alone). Later runs reuse what earlier ones completed, so the
whole test costs about one pipeline run per step. The start after the SIGKILL marks that run's runs FAILED;
afterwards nothing is left running, only the final run registered a model, and it reused exactly the steps that
completed in stopped runs (prep, train), never a stopped one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from fault_helpers import (
    finish,
    mlflow_runs,
    new_run_folder,
    processes_naming,
    run_folders,
    run_record,
    start_mlops,
    wait_until,
)

pytestmark = pytest.mark.faults

STOPS = [("prep", signal.SIGINT, 130), ("train", signal.SIGTERM, 143), ("evaluate", signal.SIGKILL, -9)]
STOPS.append(("register", signal.SIGTERM, 143))


def running_step(runs: Path, known: set[Path], step: str, process) -> Path:
    """The new run's folder, once `step`'s process exists."""

    def started():
        run_dir = new_run_folder(runs, known)
        return run_dir if run_dir and processes_naming(str(run_dir / step)) else None

    return wait_until(started, f"step {step} to run", process=process)


def test_each_step_stopped_by_a_signal_leaves_nothing_behind(repo_root, tmp_path):
    state = tmp_path / "state"
    env = {"MLOPS_HOME": str(state), "MLOPS_PROJECT_ROOT": str(repo_root)}
    argv = ["pipeline", "run", "pipelines/train.yml"]
    stopped: dict[str, Path] = {}
    for step, signum, expected_code in STOPS:
        known = run_folders(state / "runs")
        process = start_mlops(*argv, cwd=repo_root, env=env)
        run_dir = running_step(state / "runs", known, step, process)
        process.send_signal(signum)
        code, _, err = finish(process)
        assert code == expected_code, err
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        if step == "register":  # the first start after the SIGKILL sweeps that run's leftovers
            assert lines.pop(0).startswith(f"mlops: marked 2 stale run(s) FAILED in {state}: the mlops process")
        if signum != signal.SIGKILL:
            assert lines == [
                f"mlops: interrupted by {signum.name}; step '{step}' stopped, run {run_dir.name} marked KILLED"
            ]
        wait_until(lambda d=run_dir: not processes_naming(str(d)), f"nothing of {step} left running", 30)
        stopped[step] = run_dir

    rerun = start_mlops(*argv, cwd=repo_root, env=env)
    code, _, err = finish(rerun)
    assert code == 0, err
    assert "stale" not in err  # swept once, by the start right after the SIGKILL
    assert processes_naming(str(state)) == []

    tracking_uri = f"sqlite:///{state / 'mlflow.db'}"
    assert [r.info.run_name for r in mlflow_runs(tracking_uri) if r.info.status == "RUNNING"] == []
    for step, run_dir in stopped.items():
        record = run_record(run_dir)
        assert record["status"] == ("failed" if step == "evaluate" else "killed"), record
    done = new_run_folder(state / "runs", set(stopped.values()))
    steps = run_record(done)["steps"]
    assert {name: steps[name]["status"] for name in steps} == {
        "prep": "reused",  # completed in the run stopped in train
        "train": "reused",  # completed in the run stopped in evaluate
        "evaluate": "completed",  # never reused (it reads the registry), and never completed before
        "rai": "reused",  # completed in the run stopped in register, on the same evaluation
        "register": "completed",
    }
    from mlflow.tracking import MlflowClient

    versions = MlflowClient(tracking_uri=tracking_uri).search_model_versions("name='diabetes-classifier'")
    assert [(str(v.version), v.tags["pipeline_run_id"]) for v in versions] == [("1", done.name)]
    assert os.listdir(state / "runs") and len(run_folders(state / "runs")) == len(STOPS) + 1
