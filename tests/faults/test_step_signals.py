"""SIGINT, SIGTERM and SIGKILL to `mlops pipeline run` while a step runs, on the fixture project.

The `hold` step (tests/fixtures/miniproject/components/hold) says "holding", waits for a release file, then
registers a model version. One state folder, four runs: each of the first three is stopped by one signal while
its hold step holds; then the release file appears (a step that outlived its `mlops` would now register) and the
fourth run, the next `mlops` start, must find no step process, mark the SIGKILLed run's runs FAILED, register
exactly once and run hold for real (nothing of a killed step was cached).
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

SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}


def holding_step(runs: Path, known: set[Path], process) -> tuple[Path, object]:
    """The new run's folder and the hold step's process, once its log says it holds."""

    def holding():
        run_dir = new_run_folder(runs, known)
        log = run_dir / "hold" / "user_logs" / "std_log.txt" if run_dir else None
        if log is None or not log.is_file() or "holding" not in log.read_text():
            return None
        found = processes_naming(str(run_dir / "hold"))
        return (run_dir, found[0]) if len(found) == 1 else None

    return wait_until(holding, "the hold step to hold", process=process)


def test_stop_signals_during_a_step_leave_no_process_no_running_run_and_nothing_registered(miniproject):
    from mlflow.tracking import MlflowClient

    state = Path(os.environ["MLOPS_HOME"])
    release = miniproject.parent / "release"
    argv = ["pipeline", "run", "pipelines/hold.yml", "--set", f"inputs.release={release}"]
    stopped: dict[signal.Signals, Path] = {}
    for signum, expected_code in SIGNALS.items():
        known = run_folders(state / "runs")
        process = start_mlops(*argv, cwd=miniproject)
        run_dir, step = holding_step(state / "runs", known, process)
        # bash exec'd the command: the step's python leads its own session (so PDEATHSIG and the TERM reach it)
        assert step.name().startswith("python") and os.getsid(step.pid) == step.pid
        process.send_signal(signum)
        code, _, err = finish(process)
        assert code == expected_code, err
        assert "Traceback" not in err
        if signum != signal.SIGKILL:
            name = signal.Signals(signum).name
            assert err.strip().splitlines() == [
                f"mlops: interrupted by {name}; step 'hold' stopped, run {run_dir.name} marked KILLED"
            ]
        wait_until(lambda step=step: not step.is_running() or step.status() == "zombie", "the step to die", 10)
        stopped[signum] = run_dir

    release.touch()  # a step that outlived its mlops would register now
    rerun = start_mlops(*argv, cwd=miniproject)
    code, _, err = finish(rerun)
    assert code == 0, err
    assert "mlops: marked 2 stale run(s) FAILED" in err  # the SIGKILLed run: the pipeline run and its hold run
    assert processes_naming(str(state / "runs")) == []

    store = f"sqlite:///{state / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    runs = mlflow_runs(store)
    assert [r.info.run_id for r in runs if r.info.status == "RUNNING"] == []
    by_parent: dict[str, dict[str, object]] = {}
    for run in runs:
        by_parent.setdefault(run.data.tags.get("mlflow.parentRunId", run.info.run_id), {})[run.info.run_name] = run
    for signum, run_dir in stopped.items():
        family = by_parent[run_dir.name]
        expected = "FAILED" if signum == signal.SIGKILL else "KILLED"
        assert {family["scale-and-hold"].info.status, family["hold"].info.status} == {expected}
        assert family["scale"].info.status == "FINISHED"
        record = run_record(run_dir)
        if signum == signal.SIGKILL:
            assert "is gone" in family["hold"].data.tags["mlops.stale_reason"]
            assert record["status"] == "failed" and "is gone" in record["reason"]
        else:
            assert record["status"] == "killed" and record["steps"]["hold"]["status"] == "killed"

    # registered exactly once, by the run that completed; hold ran (was not reused): nothing killed was cached
    done = new_run_folder(state / "runs", set(stopped.values()))
    assert run_record(done)["steps"]["hold"]["status"] == "completed"
    versions = client.search_model_versions("name='mini-model'")
    assert [(str(v.version), v.tags["pipeline_run_id"]) for v in versions] == [("1", done.name)]
