"""The real training pipeline SIGKILLed in its register step, then `mlops serve`: stale runs, a stale server.json,
SIGTERM; and `mlops serve` on a busy port.

The pipeline runs once, on the session's trained state (prep and train come from its cache), under a model name
of its own with the gate disabled, so its register step would register if it lived on. `mlops serve` serves the
trained state's champion; it is the next `mlops` start, so it also marks the killed run's runs FAILED.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import uuid

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.e2e
@pytest.mark.xdist_group("trained")  # the session's trained state is built once, in that group's worker
def test_sigkill_in_register_registers_nothing_then_serve_sweeps_and_stops_on_sigterm(trained, repo_root):
    from mlflow.tracking import MlflowClient

    results, _ = trained
    state = results["better"].state
    env = {"MLOPS_HOME": str(state.root), "MLOPS_PROJECT_ROOT": str(repo_root)}
    model_name = f"killed-{uuid.uuid4().hex[:8]}"
    known = run_folders(state.runs)
    pipeline = start_mlops(
        "pipeline", "run", str(repo_root / "pipelines" / "train.yml"),
        "--set", f"inputs.model_name={model_name}", "--set", "inputs.gate_mode=disabled",
        cwd=repo_root, env=env,
    )  # fmt: skip

    def registering():
        run_dir = new_run_folder(state.runs, known)
        return run_dir if run_dir and processes_naming(str(run_dir / "register")) else None

    run_dir = wait_until(registering, "the register step to start", process=pipeline)
    pipeline.send_signal(signal.SIGKILL)
    code, _, _ = finish(pipeline)
    assert code == -9
    wait_until(lambda: not processes_naming(str(run_dir)), "the register step to die with its mlops", 10)
    client = MlflowClient(tracking_uri=state.tracking_uri)
    assert client.search_model_versions(f"name='{model_name}'") == []  # and no process is left to register it

    # the next mlops start: serve the champion, with a stale server.json (dead PID) left in place
    port = free_port()
    state.serving.mkdir(exist_ok=True)
    (state.serving / "server.json").write_text(
        json.dumps({"url": "http://127.0.0.1:1", "pid": dead_pid(), "start": "another-boot:1", "port": 1}) + "\n"
    )
    server = start_mlops("serve", "--port", str(port), cwd=repo_root, env=env)

    def serving():
        record = json.loads((state.serving / "server.json").read_text())
        return record if record["port"] == port else None

    record = wait_until(lambda: (state.serving / "server.json").is_file() and serving(), "the server", process=server)
    pid = record["pid"]
    assert os.getpgid(pid) == pid  # the server leads its own process group
    assert (state.serving / f"server-{port}.log").is_file()
    server.send_signal(signal.SIGTERM)
    code, _, err = finish(server)
    assert code == 143, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("mlops: marked 2 stale run(s) FAILED")  # the killed pipeline run and its register run
    assert lines[-1] == f"mlops: interrupted by SIGTERM; server pid {pid} on http://127.0.0.1:{port} stopped"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # no process of the server's group is left
    assert not (state.serving / "server.json").exists()

    family = {r.info.run_name: r for r in mlflow_runs(state.tracking_uri) if run_dir.name in (
        r.info.run_id, r.data.tags.get("mlflow.parentRunId"))}  # fmt: skip
    assert family["register"].info.status == "FAILED" and family["train"].info.status == "FINISHED"
    assert "is gone" in family["register"].data.tags["mlops.stale_reason"]
    assert [r.info.run_id for r in mlflow_runs(state.tracking_uri) if r.info.status == "RUNNING"] == []
    assert run_record(run_dir)["status"] == "failed"


def test_serve_refuses_a_busy_port_and_touches_nothing_of_the_other_server(repo_root, tmp_path):
    state = tmp_path / "state"
    serving = state / "serving"
    serving.mkdir(parents=True)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        files = {
            serving / f"server-{port}.log": "the other server's log\n",
            serving / "server.json": json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}) + "\n",
        }
        for path, text in files.items():
            path.write_text(text)
        before = {path: path.stat().st_mtime_ns for path in files}
        env = {"MLOPS_HOME": str(state), "MLOPS_PROJECT_ROOT": str(repo_root)}
        code, out, err = finish(start_mlops("serve", "--port", str(port), cwd=repo_root, env=env))
    assert code == 2
    in_use = os.strerror(errno.EADDRINUSE)
    assert err.strip().splitlines() == [f"error: port {port} on 127.0.0.1 is in use; pass --port ({in_use})"]
    assert {path: path.read_text() for path in files} == files
    assert {path: path.stat().st_mtime_ns for path in files} == before
    assert sorted(p.name for p in serving.iterdir()) == sorted(p.name for p in files)  # no log of ours either
    assert sorted(p.name for p in state.iterdir()) == ["serving"]  # no tracking store, nothing else started
    assert "serving" not in out
