"""Each component script run as Azure ML and the local executor run it: a subprocess in a code snapshot, MLflow
on SQLite, attached to a step run through MLFLOW_RUN_ID. The classification chain prep → train → evaluate →
register runs once per module; bad input must give exit code 2 and a one-line `error:` message."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from component_command import command_args
from tabular_common.io import read_table
from tabular_common.registry import search_versions

GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"  # what conftest's step runs are tagged with

FEATURES = {"numeric_features": "plasma_glucose,bmi,age", "categorical_features": "sex"}


def flags(**values: object) -> list[str]:
    """flags(raw_data=p, seed=1) → ["--raw_data", "p", "--seed", "1"], for command lines component.yml would never
    render (a required flag left out); everything else uses command_args."""
    return [item for name, value in values.items() for item in (f"--{name}", str(value))]


@dataclass
class Chain:
    root: Path
    model_name: str
    runs: dict[str, str]
    outputs: dict[str, Path]


def ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture(scope="module")
def chain(tmp_path_factory, make_frame, mlflow_store, run_component) -> Chain:
    root = tmp_path_factory.mktemp("chain")
    # 400 rows: the 80-row test split gives each sex group the 30 rows a sensitive feature needs
    make_frame(n=400).to_csv(root / "raw.csv", index=False)
    out = {name: root / name for name in ("train", "test", "profile", "model", "evaluation", "registration")}
    for folder in out.values():
        folder.mkdir()  # Azure ML and the executor hand a script empty, existing output folders
    runs = {step: mlflow_store.step_run(step) for step in ("prep", "train", "evaluate", "register")}
    name = f"diabetes-{uuid.uuid4().hex[:8]}"
    prep_args = command_args(
        "prep",
        raw_data=root / "raw.csv",
        target_column="diabetic",
        **FEATURES,
        sensitive_feature="sex",
        id_column="patient_id",
        train_data=out["train"],
        test_data=out["test"],
        profile=out["profile"],
    )
    ok(run_component("prep", prep_args, runs["prep"]))
    train_args = command_args(
        "train", train_data=out["train"], target_column="diabetic", **FEATURES, c=0.5, model_output=out["model"]
    )
    ok(run_component("train", train_args, runs["train"]))
    evaluate_args = command_args(
        "evaluate",
        model=out["model"],
        test_data=out["test"],
        target_column="diabetic",
        model_name=name,
        sensitive_feature="sex",
        evaluation=out["evaluation"],
    )
    ok(run_component("evaluate", evaluate_args, runs["evaluate"]))
    register_args = command_args(
        "register",
        model=out["model"],
        evaluation=out["evaluation"],
        model_name=name,
        data_asset="azureml:diabetes-training:1",
        registration=out["registration"],
    )
    ok(run_component("register", register_args, runs["register"]))
    return Chain(root, name, runs, out)


def load_json(path: Path):
    return json.loads(path.read_text())


def test_prep_script(chain: Chain, mlflow_store) -> None:
    train, test = read_table(chain.outputs["train"]), read_table(chain.outputs["test"])
    assert (len(train), len(test)) == (320, 80)
    assert list(train.columns) == ["patient_id", "sex", "plasma_glucose", "bmi", "age", "diabetic"]
    assert (chain.outputs["train"] / "MLTable").is_file() and (chain.outputs["test"] / "data.parquet").is_file()
    profile = load_json(chain.outputs["profile"] / "profile.json")
    assert profile["sources"][0]["file"] == "raw.csv" and profile["split"]["test_rows"] == 80
    run = mlflow_store.client().get_run(chain.runs["prep"])
    assert run.data.metrics["rows"] == 400 and run.data.metrics["train_rows"] == 320
    assert 0 < run.data.metrics["missing_value_rate"] < 0.01
    assert run.data.params["test_size"] == "0.2" and run.data.params["seed"] == "42"
    assert run.data.params["numeric_features"] == "plasma_glucose,bmi,age"
    assert run.info.status == "FINISHED"


def test_train_script(chain: Chain, mlflow_store) -> None:
    from mlflow.models import Model

    saved = Model.load(str(chain.outputs["model"]))
    assert saved.metadata["training_run_id"] == chain.runs["train"]
    assert saved.metadata["numeric_features"] == ["plasma_glucose", "bmi", "age"]
    client = mlflow_store.client()
    run = client.get_run(chain.runs["train"])
    assert {k: v for k, v in run.data.params.items()} == {
        "estimator": "logistic_regression",
        "task": "classification",
        "target_column": "diabetic",
        "numeric_features": "plasma_glucose,bmi,age",
        "categorical_features": "sex",
        "positive_label": "1",
        "validation_size": "0.0",
        "mlflow_logging": "explicit",
        "c": "0.5",
        "max_iter": "1000",
        "seed": "42",
    }
    assert 0.5 < run.data.metrics["training_roc_auc"] <= 1.0
    assert not [name for name in run.data.metrics if name.startswith("validation_")]  # none held out
    logged = {artifact.path for artifact in client.list_artifacts(chain.runs["train"], "model")}
    assert {"model/MLmodel", "model/model.skops", "model/input_example.json"} <= logged


def train_again(chain: Chain, mlflow_store, run_component, **inputs: object) -> tuple[str, Path]:
    """train_model once more on the chain's train split with other inputs: (its run id, its model folder)."""
    model = chain.root / f"model-{uuid.uuid4().hex[:6]}"
    model.mkdir()
    run_id = mlflow_store.step_run("train")
    args = command_args(
        "train", train_data=chain.outputs["train"], target_column="diabetic", **FEATURES, model_output=model, **inputs
    )
    ok(run_component("train", args, run_id))
    return run_id, model


def test_validation_size_holds_rows_out_and_logs_their_metrics(chain: Chain, mlflow_store, run_component) -> None:
    run_id, _ = train_again(chain, mlflow_store, run_component, validation_size=0.25)
    metrics = mlflow_store.client().get_run(run_id).data.metrics
    assert metrics["training_rows"] == 240  # 320 train-split rows, a quarter held out
    names = {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert {f"validation_{name}" for name in names} <= set(metrics)
    assert 0.0 <= metrics["validation_roc_auc"] <= 1.0 and metrics["validation_roc_auc"] != metrics["training_roc_auc"]


def test_autolog_logs_each_metric_and_parameter_once(chain: Chain, mlflow_store, run_component) -> None:
    run_id, model = train_again(chain, mlflow_store, run_component, mlflow_logging="autolog", validation_size=0.25)
    client = mlflow_store.client()
    run = client.get_run(run_id)
    # autolog's own names: its training metrics and the estimator's parameters, as the pipeline's `model__` ones
    assert "training_accuracy_score" in run.data.metrics and "model__C" in run.data.params
    assert "c" not in run.data.params and "training_accuracy" not in run.data.metrics  # the explicit ones: off
    for name in run.data.metrics:
        assert len(client.get_metric_history(run_id, name)) == 1, f"{name} logged twice"
    assert "validation_roc_auc" in run.data.metrics and run.data.params["mlflow_logging"] == "autolog"
    assert (model / "MLmodel").is_file()  # the model the script saves, with its metadata
    artifacts = client.list_artifacts(run_id)
    assert [a.path for a in artifacts if a.is_dir] == ["model"]  # autolog logs plots, but no second model
    assert "training_roc_curve.png" in {a.path for a in artifacts}


def test_rai_script_writes_its_report_and_the_version_carries_its_tags(
    chain: Chain, mlflow_store, run_component
) -> None:
    root = chain.root
    insights = root / "insights"
    insights.mkdir()
    args = command_args(
        "rai",
        model=chain.outputs["model"],
        test_data=chain.outputs["test"],
        target_column="diabetic",
        evaluation=chain.outputs["evaluation"],
        insights=insights,
    )
    run_id = mlflow_store.step_run("rai")
    ok(run_component("rai", args, run_id))
    report = json.loads((insights / "insights.json").read_text())
    assert report["rows"] == 80 and report["explanations"]["permutation"][0]["feature"]
    assert report["fairness"]["sensitive_feature"] == "sex"  # evaluate's numbers, carried over
    page = (insights / "report.html").read_text()
    assert page.count("<svg") == 2 and "http" not in page.split("<body>")[1]  # self-contained: nothing fetched
    client = mlflow_store.client()
    assert {a.path for a in client.list_artifacts(run_id, "rai")} >= {"rai/report.html", "rai/insights.json"}
    assert "rai_surrogate_fidelity" in client.get_run(run_id).data.metrics

    from register import rai_tags

    tags = rai_tags(insights)
    assert tags["rai_top_features"].split(",")[0] == report["explanations"]["permutation"][0]["feature"]
    assert "rows)" in tags["rai_worst_cohort"]


def test_evaluate_script(chain: Chain, mlflow_store) -> None:
    folder = chain.outputs["evaluation"]
    metrics = load_json(folder / "metrics.json")
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert load_json(folder / "champion_metrics.json") is None
    decision = load_json(folder / "decision.json")
    assert decision["register"] is True and decision["champion_version"] is None
    assert decision["candidate_value"] == metrics["roc_auc"]
    assert len(decision["test_split_sha256"]) == 64  # what the metrics were measured on (register compares it)
    fairness = load_json(folder / "fairness.json")
    assert set(fairness["groups"]) == {"F", "M"}
    assert {"roc_curve.png", "confusion_matrix.png"} <= {p.name for p in folder.iterdir()}
    run = mlflow_store.client().get_run(chain.runs["evaluate"])
    assert run.data.metrics["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert "fairness_selection_rate_difference" in run.data.metrics
    assert run.data.tags["gate.register"] == "true" and run.data.tags["gate.reason"] == decision["reason"]
    logged = {a.path for a in mlflow_store.client().list_artifacts(chain.runs["evaluate"], "evaluation")}
    assert "evaluation/decision.json" in logged and "evaluation/roc_curve.png" in logged


def test_register_then_promote_a_second_version(chain: Chain, mlflow_store, inprocess_mlflow) -> None:
    import evaluate
    import register

    client = mlflow_store.client()
    first = load_json(chain.outputs["registration"] / "registration.json")
    assert first["registered"] is True and first["version"] == "1" and first["champion"] is True
    assert first["previous_champion_version"] is None and first["compared_champion_version"] is None
    assert first["source"] == f"runs:/{chain.runs['train']}/model"
    v1 = client.get_model_version(chain.model_name, "1")
    assert v1.run_id == chain.runs["train"]
    assert v1.tags["champion"] == "true" and v1.tags["data_asset"] == "azureml:diabetes-training:1"
    assert v1.tags["git_commit"] == GIT_COMMIT
    assert v1.tags["pipeline_run_id"] == client.get_run(chain.runs["register"]).data.tags["mlflow.parentRunId"]
    assert v1.tags["training_run_id"] == chain.runs["train"]
    assert v1.tags["gate_passed"] == "true" and v1.tags["gate_mode"] == "enabled"
    first_decision = load_json(chain.outputs["evaluation"] / "decision.json")
    assert v1.tags["test_split_sha256"] == first_decision["test_split_sha256"]
    candidate = load_json(chain.outputs["evaluation"] / "metrics.json")
    assert float(v1.tags["roc_auc"]) == pytest.approx(candidate["roc_auc"])

    # evaluate again (in process, for speed): champion v1 is loaded from the registry and scored on the same
    # split; an equal score meets min_improvement 0, so a second version is registered and becomes champion
    evaluation2, registration2 = chain.root / "evaluation2", chain.root / "registration2"
    inprocess_mlflow("evaluate")
    evaluate.main(
        command_args(
            "evaluate",
            model=chain.outputs["model"],
            test_data=chain.outputs["test"],
            target_column="diabetic",
            model_name=chain.model_name,
            evaluation=evaluation2,
        )
    )
    decision = load_json(evaluation2 / "decision.json")
    assert decision["champion_version"] == "1" and decision["improvement"] == pytest.approx(0.0)
    assert load_json(evaluation2 / "champion_metrics.json") == pytest.approx(candidate)
    inprocess_mlflow("register")
    register.main(
        command_args(
            "register",
            model=chain.outputs["model"],
            evaluation=evaluation2,
            model_name=chain.model_name,
            registration=registration2,
        )
    )
    second = load_json(registration2 / "registration.json")
    assert second["version"] == "2" and second["previous_champion_version"] == "1"
    assert second["champion"] is True and second["compared_champion_version"] == "1"
    # the same test rows, target and positive class give the same fingerprint
    assert decision["test_split_sha256"] == first_decision["test_split_sha256"]
    assert client.get_model_version(chain.model_name, "2").tags["champion"] == "true"
    assert client.get_model_version(chain.model_name, "1").tags["champion"] == "false"
    assert "data_asset" not in client.get_model_version(chain.model_name, "2").tags


def test_register_reapplies_the_gate_when_the_champion_changed_after_it_ran(
    tmp_path: Path, chain: Chain, mlflow_store, inprocess_mlflow, model_name: str
) -> None:
    """Two runs gated against no champion; the first registers and becomes champion, so the second must beat its
    tagged roc_auc (same test split) by min_improvement: equal is not enough, and the champion stays."""
    import register

    gated = load_json(chain.outputs["evaluation"] / "decision.json")
    assert gated["champion_version"] is None and gated["mode"] == "enabled"

    def run_register(name: str, **changes: object) -> dict:
        evaluation = tmp_path / f"evaluation-{name}"
        evaluation.mkdir()
        (evaluation / "decision.json").write_text(json.dumps(gated | changes))
        (evaluation / "metrics.json").write_text((chain.outputs["evaluation"] / "metrics.json").read_text())
        inprocess_mlflow("register")
        args = command_args(
            "register",
            model=chain.outputs["model"],
            evaluation=evaluation,
            model_name=model_name,
            registration=tmp_path / f"registration-{name}",
        )
        register.main(args)
        return load_json(tmp_path / f"registration-{name}" / "registration.json")

    first = run_register("first")
    assert first["champion"] is True and first["version"] == "1"
    second = run_register("second", min_improvement=0.002)
    assert second["registered"] is True and second["version"] == "2" and second["champion"] is False
    assert second["previous_champion_version"] is None
    assert "compared it with no champion, but version 1 became the champion since" in second["champion_reason"]
    assert "+0.0000 < min_improvement 0.002" in second["champion_reason"]
    tags = {str(v.version): v.tags for v in search_versions(mlflow_store.client(), model_name)}
    assert (tags["1"]["champion"], tags["2"]["champion"]) == ("true", "false")
    third = run_register("third", min_improvement=0.0)
    assert third["champion"] is True and third["previous_champion_version"] == "1"
    assert "improvement +0.0000 >= min_improvement 0, so it replaces version 1" in third["champion_reason"]


def test_register_does_nothing_when_the_gate_says_no(
    tmp_path: Path, chain: Chain, mlflow_store, inprocess_mlflow, model_name: str
) -> None:
    import register

    evaluation = tmp_path / "evaluation"
    evaluation.mkdir()
    reason = "Not registering the candidate: improvement over champion version 3 is -0.0100."
    (evaluation / "decision.json").write_text(json.dumps({"register": False, "passed": False, "reason": reason}))
    inprocess_mlflow("register")
    register.main(
        command_args(
            "register",
            model=chain.outputs["model"],
            evaluation=evaluation,
            model_name=model_name,
            registration=tmp_path / "registration",
        )
    )
    record = load_json(tmp_path / "registration" / "registration.json")
    assert record == {"registered": False, "model_name": model_name, "version": None, "reason": reason}
    assert search_versions(mlflow_store.client(), model_name) == []


# Each fails on its input before touching MLflow, so these need no chain outputs.
BAD_INPUTS = {
    "prep: missing column": (
        "prep",
        lambda tmp: command_args(
            "prep",
            raw_data=tmp / "raw.csv",
            target_column="diabetic",
            numeric_features="plasma_glucose,insulin",
            train_data=tmp / "a",
            test_data=tmp / "b",
            profile=tmp / "c",
        ),
        "missing column(s) 'insulin'; available columns: patient_id, plasma_glucose",
    ),
    "train: estimator does not fit the task": (
        "train",
        lambda tmp: command_args(
            "train",
            train_data=tmp / "raw.csv",
            target_column="diabetic",
            **FEATURES,
            task="regression",
            estimator="logistic_regression",
            model_output=tmp / "a",
        ),
        "estimator 'logistic_regression' cannot be used for task 'regression'",
    ),
    "evaluate: metric of the other task": (
        "evaluate",
        lambda tmp: command_args(
            "evaluate",
            model=tmp / "a",
            test_data=tmp / "raw.csv",
            target_column="diabetic",
            model_name="m",
            primary_metric="rmse",
            evaluation=tmp / "b",
        ),
        "primary_metric: 'rmse' is not a classification metric; valid: accuracy",
    ),
    "evaluate: not a model folder": (
        "evaluate",
        lambda tmp: command_args(
            "evaluate",
            model=tmp,
            test_data=tmp / "raw.csv",
            target_column="diabetic",
            model_name="m",
            evaluation=tmp / "b",
        ),
        "is not an MLflow model folder (no MLmodel file)",
    ),
    "register: no decision": (
        "register",
        lambda tmp: command_args("register", model=tmp / "a", evaluation=tmp, model_name="m", registration=tmp / "b"),
        "evaluation: decision.json not found in",
    ),
    "register: missing argument": (
        "register",
        lambda tmp: flags(model=tmp / "a", evaluation=tmp, registration=tmp / "b"),
        "the following arguments are required: --model_name",
    ),
}


@pytest.mark.parametrize(("component", "args", "message"), BAD_INPUTS.values(), ids=list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, make_frame, run_component, component: str, args: Callable, message: str
) -> None:
    make_frame(n=20).to_csv(tmp_path / "raw.csv", index=False)
    result = run_component(component, args(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr


def test_regression_in_process(tmp_path: Path, make_frame, inprocess_mlflow, model_name: str) -> None:
    """The regression path through prep, train and evaluate, calling main() in this process (faster)."""
    import evaluate
    import prep
    import train

    make_frame(n=400, task="regression").to_parquet(tmp_path / "raw.parquet", index=False)
    out = {name: tmp_path / name for name in ("train", "test", "profile", "model", "evaluation")}
    common = {"target_column": "progression", **FEATURES, "task": "regression"}
    inprocess_mlflow("prep")
    prep.main(
        command_args(
            "prep",
            raw_data=tmp_path / "raw.parquet",
            **common,
            train_data=out["train"],
            test_data=out["test"],
            profile=out["profile"],
        )
    )
    inprocess_mlflow("train")
    train.main(
        command_args(
            "train", train_data=out["train"], **common, estimator="linear_regression", model_output=out["model"]
        )
    )
    inprocess_mlflow("evaluate")
    evaluate.main(
        command_args(
            "evaluate",
            model=out["model"],
            test_data=out["test"],
            target_column="progression",
            task="regression",
            primary_metric="rmse",
            model_name=model_name,
            sensitive_feature="sex",
            min_metric=1000,
            evaluation=out["evaluation"],
        )
    )
    metrics = load_json(out["evaluation"] / "metrics.json")
    assert set(metrics) == {"mae", "mse", "rmse", "r2"}
    decision = load_json(out["evaluation"] / "decision.json")
    assert decision["higher_is_better"] is False and decision["register"] is True
    assert (out["evaluation"] / "predicted_vs_actual.png").is_file()
    assert set(load_json(out["evaluation"] / "fairness.json")["differences"]) == {"mean_prediction", "mae"}
    assert isinstance(read_table(out["test"]), pd.DataFrame)
