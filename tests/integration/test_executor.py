"""The local executor on the tiny fixture project: bindings, MLflow runs, reuse, failures, the import guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlops.errors import MlopsError, StepFailed
from mlops.project.layout import Layout
from mlops.targets.local.jobs import submit as run_pipeline

PIPELINE = Path("pipelines/scale_and_total.yml")


def quiet(_line: str) -> None:
    pass


def run(project: Path, *overrides: str, **kwargs):
    return run_pipeline(project / PIPELINE, list(overrides), echo=quiet, **kwargs)


def client_for(result) -> MlflowClient:
    return MlflowClient(tracking_uri=result.state.tracking_uri)


def test_runs_steps_in_order_with_bound_inputs_and_outputs(miniproject):
    result = run(miniproject)
    assert result.status == "completed"
    assert [s.status for s in result.steps.values()] == ["completed", "completed"]
    # numbers 1,2,3 scaled by the pipeline input factor 3, then summed by the second step
    assert (result.outputs["total"] / "total.txt").read_text().strip() == "18.0"
    assert (result.steps["scale"].outputs["scaled"] / "label.txt").read_text().strip() == "none"


def test_step_runs_in_its_code_snapshot_with_additional_includes(miniproject):
    result = run(miniproject)
    code = result.run_dir / "scale" / "code"
    assert (code / "scale.py").is_file()
    assert (code / "helpers" / "__init__.py").is_file()  # brought in by additional_includes
    assert "cwd=code" in result.steps["scale"].log.read_text()


def test_mlflow_parent_and_child_runs_and_the_script_attaches_to_its_child_run(miniproject):
    result = run(miniproject, "jobs.total.inputs.track=true")
    client = client_for(result)
    parent = client.get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["factor"] == "3"
    total_step = result.steps["total"]
    child = client.get_run(total_step.mlflow_run_id)
    assert child.data.tags["mlflow.parentRunId"] == result.run_id
    assert child.data.metrics["total"] == 18.0
    # the script's own mlflow.start_run() resumed the run the executor created
    assert (total_step.outputs["total"] / "run_id.txt").read_text().strip() == total_step.mlflow_run_id


def test_second_run_is_served_from_the_cache(miniproject):
    first = run(miniproject)
    second = run(miniproject)
    assert [s.status for s in second.steps.values()] == ["reused", "reused"]
    assert second.steps["total"].reused_from == first.steps["total"].mlflow_run_id
    assert (second.outputs["total"] / "total.txt").read_text() == (first.outputs["total"] / "total.txt").read_text()
    reused_child = client_for(second).get_run(second.steps["total"].mlflow_run_id)
    assert reused_child.data.tags["mlops.reused_from_run_id"] == first.steps["total"].mlflow_run_id


def test_changed_input_reruns_the_step_and_everything_downstream(miniproject):
    run(miniproject)
    changed = run(miniproject, "inputs.factor=4")
    assert [s.status for s in changed.steps.values()] == ["completed", "completed"]
    assert (changed.outputs["total"] / "total.txt").read_text().strip() == "24.0"


def test_changed_code_reruns_only_that_step(miniproject):
    run(miniproject)
    script = miniproject / "components" / "total" / "src" / "total.py"
    script.write_text(script.read_text() + "\n# a change\n")
    again = run(miniproject)
    assert [s.status for s in again.steps.values()] == ["reused", "completed"]


def test_force_rerun_runs_every_step(miniproject):
    run(miniproject)
    forced = run(miniproject, force_rerun=True)
    assert [s.status for s in forced.steps.values()] == ["completed", "completed"]


def test_force_rerun_setting_in_the_yaml_is_honoured(miniproject):
    run(miniproject)
    forced = run(miniproject, "settings.force_rerun=true")
    assert [s.status for s in forced.steps.values()] == ["completed", "completed"]


def test_non_deterministic_component_is_never_reused(miniproject):
    component = miniproject / "components" / "total" / "component.yml"
    component.write_text(component.read_text().replace("is_deterministic: true", "is_deterministic: false"))
    run(miniproject)
    again = run(miniproject)
    assert [s.status for s in again.steps.values()] == ["reused", "completed"]


def test_set_overrides_a_data_reference_and_an_optional_step_input(miniproject):
    result = run(miniproject, "inputs.numbers.path=azureml:numbers@latest", "jobs.scale.inputs.label=blue")
    assert (result.outputs["total"] / "total.txt").read_text().strip() == "90.0"  # (10 + 20) * 3
    assert (result.steps["scale"].outputs["scaled"] / "label.txt").read_text().strip() == "blue"


def test_failed_step_reports_exit_code_and_log_tail_and_caches_nothing(miniproject):
    with pytest.raises(StepFailed) as failure:
        run(miniproject, "jobs.scale.inputs.fail=true")
    message = str(failure.value)
    assert "step 'scale' failed with exit code 3" in message
    assert "about to fail on purpose" in message
    state = Layout(miniproject).state
    assert [p.name for p in state.cache.iterdir()] == []
    record = json.loads(next(state.runs.glob("*/run.json")).read_text())
    assert record["status"] == "failed"
    assert record["steps"]["total"]["status"] == "skipped"
    runs = MlflowClient(tracking_uri=state.tracking_uri).search_runs(
        [MlflowClient(tracking_uri=state.tracking_uri).get_experiment_by_name("miniproject").experiment_id]
    )
    assert {r.info.status for r in runs} == {"FAILED"}


def test_component_cannot_import_the_project_package(miniproject, monkeypatch):
    monkeypatch.setenv("TRY_PROJECT_IMPORT", "1")
    with pytest.raises(StepFailed) as failure:
        run(miniproject)
    assert "No module named 'mlops'" in str(failure.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("inputs.factor=40", "jobs.scale.inputs.factor: 40 is above the maximum 10"),
        ("inputs.factor=two", "jobs.scale.inputs.factor: expected an integer, got 'two'"),
        (
            "inputs.numbers.path=azureml:numbers:9",
            "inputs.numbers.path: 'azureml:numbers:9': data asset 'numbers'",
        ),
        ("inputs.numbers.path=../data/missing.txt", "inputs.numbers.path: .*missing.txt does not exist"),
        ("inputs.factor", "expected KEY=VALUE"),
        ("inputs.factr=2", "--set inputs.factr: the pipeline declares no input 'factr'; did you mean 'factor'"),
        ("jobs.scale.inputs.lable=x", "--set jobs.scale.inputs.lable: step 'scale' has no input 'lable'"),
        ("jobs.sclae.inputs.label=x", "--set jobs.sclae.inputs.label: the pipeline has no step 'sclae'"),
    ],
)
def test_bad_input_is_rejected_before_anything_runs(miniproject, override, message):
    with pytest.raises(MlopsError, match=message):
        run(miniproject, override)
    state = Layout(miniproject).state
    assert not state.runs.exists() or not any(state.runs.iterdir())


def test_interrupted_run_is_marked_killed_not_left_running(miniproject, monkeypatch):
    import mlops.targets.local.jobs as executor

    real_snapshot = executor.build_snapshot

    def interrupt_at_second_step(component, component_file, destination):
        if destination.parent.name == "total":
            raise KeyboardInterrupt
        real_snapshot(component, component_file, destination)

    monkeypatch.setattr(executor, "build_snapshot", interrupt_at_second_step)
    with pytest.raises(KeyboardInterrupt):
        run(miniproject)
    state = Layout(miniproject).state
    client = MlflowClient(tracking_uri=state.tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("miniproject").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.status for r in parents] == ["KILLED"]
    record = json.loads(next(state.runs.glob("*/run.json")).read_text())
    assert record["status"] == "killed"
    assert {name: step["status"] for name, step in record["steps"].items()} == {"scale": "completed", "total": "killed"}
    assert [json.loads((entry / "entry.json").read_text())["step"] for entry in state.cache.iterdir()] == ["scale"]


def test_a_stop_signal_during_a_step_stops_its_process_and_marks_its_runs_killed(miniproject, tmp_path):
    """A signal handler raising Interrupted (what the CLI installs) while the hold step holds."""
    import os
    import signal
    import threading
    import time

    import psutil

    from mlops.errors import Interrupted

    def interrupt(_signum, _frame):
        raise Interrupted(signal.SIGTERM)

    def signal_when_holding():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            logs = list(Layout(miniproject).state.runs.glob("*/hold/user_logs/std_log.txt"))
            if logs and "holding" in logs[0].read_text():
                os.kill(os.getpid(), signal.SIGUSR1)
                return
            time.sleep(0.05)

    previous = signal.signal(signal.SIGUSR1, interrupt)
    watcher = threading.Thread(target=signal_when_holding, daemon=True)
    watcher.start()
    try:
        with pytest.raises(Interrupted) as stopped:
            run_pipeline(miniproject / "pipelines" / "hold.yml", [f"inputs.release={tmp_path / 'never'}"], echo=quiet)
    finally:
        watcher.join(timeout=60)
        signal.signal(signal.SIGUSR1, previous)
    state = Layout(miniproject).state
    run_dir = next(state.runs.iterdir())
    assert stopped.value.stopped == [f"step 'hold' stopped, run {run_dir.name} marked KILLED"]
    assert [p.pid for p in psutil.process_iter(["cmdline"]) if str(run_dir) in " ".join(p.info["cmdline"] or [])] == []
    client = MlflowClient(tracking_uri=state.tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("miniproject-hold").experiment_id])
    assert {r.info.run_name: r.info.status for r in runs} == {
        "scale-and-hold": "KILLED",
        "scale": "FINISHED",
        "hold": "KILLED",
    }
    record = json.loads((run_dir / "run.json").read_text())
    assert (record["status"], record["steps"]["hold"]["status"]) == ("killed", "killed")
    assert [json.loads((e / "entry.json").read_text())["step"] for e in state.cache.iterdir()] == ["scale"]


def test_a_run_leaves_nothing_in_the_temp_folder(miniproject, tmp_path, monkeypatch):
    """azure-ai-ml's merge of additional_includes made one temp folder per step and removed only its inside."""
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))  # the steps'
    monkeypatch.setattr(tempfile, "tempdir", str(private))  # the engine's (tempfile reads TMPDIR once)
    before = sorted(private.iterdir())
    result = run(miniproject, force_rerun=True)
    assert [s.status for s in result.steps.values()] == ["completed", "completed"]  # both built a snapshot
    assert sorted(private.iterdir()) == before == []
