"""The experimentation pipelines end to end on the sample data, in one fresh state: the AutoML training pipeline
(a few FLAML trials) registers its best model through the gate as the first champion, then the sweep training
pipeline (three trials of the train component) puts its best trial through the same gate; the AutoML forecasting
job forecasts the next 14 days of the visits series."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from mlops.targets.local.jobs import submit

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("experimentation")]

MODEL = "diabetes-classifier"


@pytest.fixture(scope="module")
def runs(repo_root, tmp_path_factory):
    state = tmp_path_factory.mktemp("experimentation-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_HOME", str(state))
        patch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
        pipelines = repo_root / "pipelines"
        automl = submit(pipelines / "train-automl.yml", ["jobs.automl.limits.max_trials=3"], echo=lambda _: None)
        sweep = submit(pipelines / "train-sweep.yml", ["jobs.sweep.limits.max_total_trials=3"], echo=lambda _: None)
        forecast = submit(pipelines / "automl-forecasting.yml", ["limits.max_trials=3"], echo=lambda _: None)
    return automl, sweep, MlflowClient(tracking_uri=automl.state.tracking_uri), forecast


def read(folder, name):
    return json.loads((folder / name).read_text())


def test_automl_best_model_is_registered_through_the_gate(runs) -> None:
    automl, _, client, _ = runs
    assert automl.status == "completed", {n: s.status for n, s in automl.steps.items()}
    assert read(automl.outputs["evaluation"], "decision.json")["register"] is True  # no champion yet
    registered = read(automl.outputs["registration"], "registration.json")
    version = client.get_model_version(MODEL, registered["version"])
    assert version.run_id == automl.steps["automl"].mlflow_run_id  # the AutoML step's run holds the model
    model_info = client.get_run(version.run_id)
    assert model_info.data.params["best_learner"] in model_info.data.params["learners"].split(",")
    assert model_info.data.metrics["automl_trials"] == 3 and 0.5 < model_info.data.metrics["AUC_weighted"] <= 1


def test_automl_trials_are_child_runs_with_the_primary_metric(runs) -> None:
    automl, _, client, _ = runs
    step_run = automl.steps["automl"].mlflow_run_id
    experiment = client.get_run(step_run).info.experiment_id
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{step_run}'")
    assert len(children) == 3
    assert all("AUC_weighted" in child.data.metrics and child.data.params["learner"] for child in children)


def test_automl_model_carries_a_signature_and_the_metadata_evaluation_reads(runs) -> None:
    from mlflow.models import Model

    automl, _, _, _ = runs
    saved = Model.load(str(automl.steps["automl"].outputs["best_model"]))
    assert saved.signature is not None and saved.metadata["estimator"].startswith("automl:")
    assert saved.metadata["task"] == "classification" and saved.metadata["positive_label"] == 1
    assert "patient_id" not in saved.metadata["numeric_features"]  # an identifier: dropped


def test_the_sweeps_best_trial_goes_through_the_same_gate(runs) -> None:
    _, sweep, _, _ = runs
    assert sweep.status == "completed", {n: s.status for n, s in sweep.steps.items()}
    summary = read(sweep.run_dir / "sweep", "sweep.json")
    assert len(summary["trials"]) == 3 and summary["primary_metric"] == "validation_roc_auc"
    best = next(t for t in summary["trials"] if t["trial"] == summary["best_trial"])
    assert best["metric"] == max(t["metric"] for t in summary["trials"])
    from mlflow.models import Model

    best_model = sweep.steps["sweep"].outputs["model_output"]
    assert Model.load(str(best_model)).metadata["training_run_id"] == best["mlflow_run_id"]
    assert str(best_model) in (sweep.run_dir / "evaluate" / "command.txt").read_text()  # what evaluate scored
    decision = read(sweep.outputs["evaluation"], "decision.json")
    assert decision["champion_version"] == "1" and isinstance(decision["register"], bool) and decision["reason"]


def test_automl_forecasting_forecasts_the_next_horizon_and_saves_a_model_that_does(runs, repo_root) -> None:
    import mlflow.pyfunc
    import pandas as pd

    _, _, client, forecast = runs
    assert forecast.status == "completed", {n: s.status for n, s in forecast.steps.items()}
    (step,) = forecast.steps.values()
    run = client.get_run(step.mlflow_run_id)
    assert run.data.params["forecast_horizon"] == "14" and run.data.metrics["automl_trials"] == 3
    assert 0 < run.data.metrics["normalized_root_mean_squared_error"] < 1
    logged = pd.read_csv(client.download_artifacts(step.mlflow_run_id, "forecast.csv"), parse_dates=["date"])
    history = pd.read_csv(repo_root / "data" / "diabetes-visits" / "visits.csv", parse_dates=["date"])
    expected_days = pd.date_range(history["date"].max() + pd.Timedelta(days=1), periods=14, freq="D")
    assert list(logged["date"]) == list(expected_days) and logged["visits"].between(0, 200).all()
    model = mlflow.pyfunc.load_model(str(step.outputs["best_model"]))
    assert model.metadata.metadata["time_column"] == "date"
    again = model.predict(pd.DataFrame({"date": expected_days}))
    assert list(pd.Series(again).round(6)) == list(logged["visits"].round(6))  # the saved model forecasts the same
