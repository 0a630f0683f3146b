"""The training pipeline end to end on the local target, on the committed sample data.

One module-scoped sequence of runs in a fresh state folder proves the promotion gate is honoured downstream:
no champion -> registered; better -> registered and becomes champion; equal or worse -> not registered; and
unchanged deterministic steps are served from the cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.cli import main

# All users of the session-scoped `trained` fixture run in one xdist worker, so it is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]

MODEL = "diabetes-classifier"


def read(folder, name):
    return json.loads((folder / name).read_text())


@pytest.fixture(scope="module")
def runs(trained):
    return trained


def registration(run):
    return read(run.outputs["registration"], "registration.json")


def decision(run):
    return read(run.outputs["evaluation"], "decision.json")


def test_no_champion_yet_registers_version_1_as_champion(runs):
    results, _ = runs
    first = results["first_weak"]
    assert decision(first)["champion_version"] is None
    assert registration(first)["registered"] is True
    assert int(registration(first)["version"]) == 1


def test_better_model_is_registered_and_becomes_the_champion(runs):
    results, client = runs
    better = results["better"]
    assert decision(better)["improvement"] > 0.002
    assert registration(better)["registered"] is True
    versions = {int(v.version): v.tags for v in client.search_model_versions(f"name='{MODEL}'")}
    assert versions[2]["champion"] == "true"
    assert versions[1]["champion"] == "false"


def test_registered_version_carries_metrics_and_lineage_tags(runs, repo_root):
    results, client = runs
    better = results["better"]
    tags = client.get_model_version(MODEL, "2").tags
    metrics = read(better.outputs["evaluation"], "metrics.json")
    assert float(tags["roc_auc"]) == pytest.approx(metrics["roc_auc"])
    assert tags["data_asset"] == "azureml:diabetes-training:1"
    assert tags["pipeline_run_id"] == better.run_id
    assert tags["training_run_id"] == better.steps["train"].mlflow_run_id
    assert tags["git_commit"] != ""
    source = client.get_model_version(MODEL, "2").run_id
    assert source == better.steps["train"].mlflow_run_id  # registered from the training run: lineage
    insights = json.loads((better.steps["rai"].outputs["insights"] / "insights.json").read_text())
    top = [row["feature"] for row in insights["explanations"]["permutation"][:3]]
    assert tags["rai_top_features"] == ",".join(top) and "rows)" in tags["rai_worst_cohort"]
    assert {a.path for a in client.list_artifacts(source, "rai")} >= {"rai/report.html", "rai/insights.json"}


def test_metrics_are_logged_to_the_step_runs(runs):
    results, client = runs
    better = results["better"]
    evaluate_run = client.get_run(better.steps["evaluate"].mlflow_run_id)
    for metric in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert 0.0 < evaluate_run.data.metrics[metric] <= 1.0
    train_run = client.get_run(better.steps["train"].mlflow_run_id)
    assert train_run.data.params["estimator"] == "logistic_regression"
    assert evaluate_run.data.tags["mlflow.parentRunId"] == better.run_id
    artifacts = {a.path for a in client.list_artifacts(evaluate_run.info.run_id, "evaluation")}
    assert {"evaluation/roc_curve.png", "evaluation/confusion_matrix.png", "evaluation/decision.json"} <= artifacts


def test_second_identical_run_reuses_prep_and_train_and_registers_nothing(runs):
    results, _ = runs
    same = results["same"]
    assert same.steps["prep"].status == same.steps["train"].status == "reused"
    assert same.steps["evaluate"].status == same.steps["register"].status == "completed"  # not deterministic
    assert decision(same)["improvement"] == pytest.approx(0.0)
    assert registration(same)["registered"] is False


def test_worse_model_is_not_registered_and_the_champion_stays(runs):
    results, client = runs
    worse = results["worse"]
    assert worse.steps["train"].status == "reused"  # same weak model as the first run
    assert decision(worse)["improvement"] < 0
    assert decision(worse)["register"] is False
    assert registration(worse)["registered"] is False
    versions = {int(v.version): v.tags["champion"] for v in client.search_model_versions(f"name='{MODEL}'")}
    assert versions == {1: "false", 2: "true"}


def test_mlops_run_prints_the_summary(whole_loop):
    out, _ = whole_loop
    assert "reused" in out
    assert "metrics (test split): accuracy" in out
    assert "not registered" in out
    assert "MLflow UI:" in out
    assert "served diabetes-classifier:2 on 127.0.0.1 (stopped): smoke-tested sample-request" in out
    for asset in ("diabetes-production-baseline", "diabetes-production-drifted"):
        line = next(line for line in out.splitlines() if line.startswith(f"batch predictions ({asset}): "))
        assert Path(line.split(": ", 1)[1]).is_file()
    assert "monitoring (diabetes-production-baseline): no breach; report " in out
    drifted = json.loads(Path("data/production/drift.json").read_text())["drifted_features"]
    assert f"monitoring (diabetes-production-drifted): data_drift: {', '.join(drifted)};" in out


def test_pipeline_run_prints_the_metrics_and_the_gates_verdict(runs, capsys, monkeypatch):
    """A declined candidate is a successful run (exit 0), but its output says it was declined and why. (The run
    is the fixture's declined one, handed back by a stand-in for the executor, so no pipeline runs again.)"""
    from mlops.targets.local import jobs

    results, _ = runs
    monkeypatch.setattr(jobs, "submit", lambda *args, **kwargs: results["worse"])
    assert main(["pipeline", "run", "pipelines/train.yml"]) == 0
    out = capsys.readouterr().out
    assert "metrics (test split): accuracy" in out
    assert "gate (enabled): " in out
    assert "not registered: the gate said no" in out


def test_the_sdk_twin_runs_locally_and_reuses_what_the_yaml_ran(runs, monkeypatch, repo_root):
    """pipelines/train_pipeline.py's job object, run by the local target: the same components with the same inputs
    as train.yml's default run, so prep and train are reused from the YAML runs; the gate declines the same model."""
    import importlib.util

    from mlops.targets.local.jobs import run_job

    results, _ = runs
    monkeypatch.setenv("MLOPS_HOME", str(results["better"].state.root))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
    spec = importlib.util.spec_from_file_location("train_pipeline", repo_root / "pipelines" / "train_pipeline.py")
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    run = run_job(twin.build_pipeline_job(), base=repo_root, echo=lambda _: None)
    statuses = {name: step.status for name, step in run.steps.items()}
    assert statuses == {
        "prep": "reused",
        "train": "reused",
        "evaluate": "completed",
        "rai": "reused",  # deterministic; the evaluation it reads came out the same
        "register": "completed",
    }
    assert run.steps["prep"].reused_from == results["first_weak"].steps["prep"].mlflow_run_id
    assert run.steps["train"].reused_from == results["better"].steps["train"].mlflow_run_id
    assert registration(run)["registered"] is False


def test_the_azure_rai_dashboard_runs_the_local_rai_step_on_the_registered_model(runs, repo_root, monkeypatch, capsys):
    """pipelines/rai.yml names registry components that exist only on Azure: locally it says so and runs
    components/rai on version 1 of the model, from the local registry."""
    results, _ = runs
    monkeypatch.setenv("MLOPS_HOME", str(results["better"].state.root))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
    assert main(["pipeline", "run", str(repo_root / "pipelines" / "rai.yml")]) == 0
    out = capsys.readouterr().out
    assert "note: rai.yml is Azure ML's Responsible AI dashboard" in out
    insights = Path(next(line for line in out.splitlines() if "output insights:" in line).split(": ", 1)[1])
    report = json.loads((insights / "insights.json").read_text())
    assert report["model"] and report["rows"] == 1000 and report["fairness"] is None  # no evaluate step here
    command = (insights.parents[1] / "command.txt").read_text()
    assert "azureml-models/diabetes-classifier/1/model" in command and (insights / "report.html").is_file()
