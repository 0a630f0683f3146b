"""The stale-run sweep every local `mlops` verb starts with: RUNNING runs whose engine is gone become FAILED."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from mlops.project.layout import Layout, StateDir
from mlops.targets.local import tracking

pytestmark = pytest.mark.faults


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_runs_of_a_dead_engine_are_marked_failed_and_others_are_left_alone(miniproject):
    state = Layout(miniproject).state
    client = tracking.client(state)
    experiment = tracking.experiment_id(client, state, "sweep")
    dead = {tracking.ENGINE_PID_TAG: str(dead_pid()), tracking.ENGINE_START_TAG: ""}
    reused = {**tracking.engine_tags(), tracking.ENGINE_START_TAG: "another-boot:1"}  # our PID, not our start

    def run(tags, parent=None):
        if parent:
            tags = {**tags, "mlflow.parentRunId": parent}
        return client.create_run(experiment, tags=tags).info.run_id

    stale_parent = run(dead)
    stale_child = run(dead, stale_parent)
    stale_nested = run({}, stale_child)  # a run a step opened itself: its engine is its parent's
    reused_pid = run(reused)
    alive = run(tracking.engine_tags())
    alive_child = run({}, alive)
    untagged = run({})  # not made by mlops: no engine to judge by
    finished = run(dead)
    client.set_terminated(finished, "FINISHED")
    (state.runs / stale_parent).mkdir(parents=True)
    tracking.write_run_record(state.runs / stale_parent, {"run_id": stale_parent, "status": "running"})

    assert tracking.mark_stale_runs(state) == 4
    status = {run_id: client.get_run(run_id).info.status for run_id in (stale_parent, stale_child, stale_nested)}
    assert set(status.values()) == {"FAILED"}
    assert client.get_run(reused_pid).info.status == "FAILED"
    assert "is gone" in client.get_run(stale_nested).data.tags[tracking.STALE_TAG]
    left = {alive: "RUNNING", alive_child: "RUNNING", untagged: "RUNNING", finished: "FINISHED"}
    assert {run_id: client.get_run(run_id).info.status for run_id in left} == left
    record = json.loads((state.runs / stale_parent / "run.json").read_text())
    assert record["status"] == "failed" and f"pid {dead[tracking.ENGINE_PID_TAG]}" in record["reason"]
    assert tracking.mark_stale_runs(state) == 0  # nothing left to mark


def test_no_tracking_store_no_sweep_and_nothing_created(tmp_path):
    state = StateDir(tmp_path / "state")
    assert tracking.mark_stale_runs(state) == 0
    assert not state.root.exists()


def test_this_process_is_running_and_a_dead_or_reused_pid_is_not():
    me = tracking.engine_tags()
    assert tracking.process_running(os.getpid(), me[tracking.ENGINE_START_TAG])
    assert not tracking.process_running(os.getpid(), "another-boot:1")
    assert not tracking.process_running(dead_pid())


def test_the_run_record_is_replaced_whole(tmp_path):
    tracking.write_run_record(tmp_path, {"status": "running"})
    tracking.write_run_record(tmp_path, {"status": "killed"})
    assert json.loads((tmp_path / "run.json").read_text()) == {"status": "killed"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]  # no staging file left
