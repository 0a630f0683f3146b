"""Data semantics over any table: the positive class of a binary target (string labels included) is one class for
the training metrics, the test metrics, the scoring scripts and the monitor; gate thresholds must fit their metric;
a sensitive feature must have few, large groups; a continuous target used for classification gets a hint.

Tables shipped inside scikit-learn (no downloads): breast cancer with its labels as strings, iris (multiclass),
diabetes (a continuous target)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from component_command import command_args
from gate import decide
from tabular_common.errors import DataError
from tabular_common.schema import check_sensitive_groups, looks_continuous, resolve_positive_label

ENDPOINTS = Path(__file__).resolve().parents[3] / "endpoints"


def cancer() -> tuple[pd.DataFrame, list[str]]:
    """Breast cancer with string labels: "benign" sorts first, so naming it positive differs from the default."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda name: name.replace(" ", "_"))
    frame["diagnosis"] = np.where(frame.pop("target") == 0, "malignant", "benign")
    frame.insert(0, "sample_id", np.arange(len(frame)))
    features = ["mean_radius", "mean_texture", "mean_smoothness", "worst_concavity"]
    return frame, features


def iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda name: name.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = np.asarray(data.target_names)[frame.pop("target")]
    return frame


def load_json(path: Path):
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def scoring_common() -> ModuleType:
    """endpoints/scoring_common.py, the code both scoring scripts share."""
    spec = importlib.util.spec_from_file_location("scoring_common_semantics", ENDPOINTS / "scoring_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def prep_error(tmp_path: Path, run_component, frame: pd.DataFrame, **inputs: str) -> str:
    """Run prep as a subprocess on `frame`; it must exit 2 with one `error:` line, which is returned."""
    frame.to_csv(tmp_path / "raw.csv", index=False)
    outputs = {"train_data": tmp_path / "a", "test_data": tmp_path / "b", "profile": tmp_path / "c"}
    result = run_component("prep", command_args("prep", raw_data=tmp_path / "raw.csv", **inputs, **outputs))
    assert result.returncode == 2, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    return line


def run_chain(
    attach, tmp_path: Path, frame: pd.DataFrame, features: list[str], target: str, **extra: str
) -> dict[str, Path]:
    """prep -> train -> evaluate in this process, each attached to its own step run; returns the output folders."""
    import evaluate
    import prep
    import train

    frame.to_csv(tmp_path / "raw.csv", index=False)
    out = {name: tmp_path / name for name in ("train", "test", "profile", "model", "evaluation")}
    common = {"target_column": target, "numeric_features": ",".join(features)}
    positive = {"positive_label": extra["positive_label"]} if "positive_label" in extra else {}
    attach("prep")
    prep.main(
        command_args(
            "prep",
            raw_data=tmp_path / "raw.csv",
            **common,
            **positive,
            train_data=out["train"],
            test_data=out["test"],
            profile=out["profile"],
        )
    )
    attach("train")
    train.main(command_args("train", train_data=out["train"], **common, **positive, model_output=out["model"]))
    attach("evaluate")
    evaluate.main(
        command_args(
            "evaluate",
            model=out["model"],
            test_data=out["test"],
            target_column=target,
            model_name=extra["model_name"],
            evaluation=out["evaluation"],
        )
    )
    return out


def test_positive_label_is_one_class_for_metrics_scoring_and_monitor(
    tmp_path: Path, inprocess_mlflow, model_name: str, scoring_common
) -> None:
    import mlflow.sklearn
    from mlflow.models import Model
    from sklearn.metrics import precision_score, recall_score, roc_auc_score
    from tabular_common.io import read_table

    from mlops.monitoring.signals import classification_scores

    frame, features = cancer()
    out = run_chain(
        inprocess_mlflow, tmp_path, frame, features, "diagnosis", positive_label="benign", model_name=model_name
    )

    # recorded once, in the model's metadata (and in the profile and the decision)
    saved = Model.load(str(out["model"]))
    assert saved.metadata["classes"] == ["benign", "malignant"]
    assert saved.metadata["positive_label"] == "benign"
    assert load_json(out["profile"] / "profile.json")["target"]["positive_label"] == "benign"
    assert load_json(out["evaluation"] / "decision.json")["positive_label"] == "benign"

    # the test metrics are those of "benign"
    model = mlflow.sklearn.load_model(str(out["model"]))
    test = read_table(out["test"])
    truth, predicted = test["diagnosis"].to_numpy(), model.predict(test[features])
    proba = model.predict_proba(test[features])
    metrics = load_json(out["evaluation"] / "metrics.json")
    assert metrics["precision"] == pytest.approx(precision_score(truth, predicted, pos_label="benign"))
    assert metrics["recall"] == pytest.approx(recall_score(truth, predicted, pos_label="benign"))
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(truth == "benign", proba[:, 0]))
    assert metrics["precision"] != pytest.approx(precision_score(truth, predicted, pos_label="malignant"))

    # scoring: `probability` is P(benign)
    scores = scoring_common.score(model, test[features], scoring_common.positive_label(saved.metadata))
    assert scores.positive_class == "benign"
    assert scores.columns()["probability"].tolist() == pytest.approx(proba[:, 0].round(6).tolist())

    # the monitor, told the same label, reports the same precision and recall
    values, _, how = classification_scores(truth, predicted, "benign")
    assert "benign" in how
    assert values["precision"] == pytest.approx(metrics["precision"])
    assert values["recall"] == pytest.approx(metrics["recall"])


def test_without_positive_label_the_class_that_sorts_last_is_recorded(tmp_path, inprocess_mlflow, model_name) -> None:
    from mlflow.models import Model

    frame, features = cancer()
    out = run_chain(inprocess_mlflow, tmp_path, frame, features, "diagnosis", model_name=model_name)
    assert Model.load(str(out["model"])).metadata["positive_label"] == "malignant"


def test_multiclass_has_no_positive_label_and_macro_metrics(tmp_path, inprocess_mlflow, model_name) -> None:
    from mlflow.models import Model
    from sklearn.metrics import precision_score
    from tabular_common.io import read_table

    frame = iris()
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    out = run_chain(inprocess_mlflow, tmp_path, frame, features, "species", model_name=model_name)
    metadata = Model.load(str(out["model"])).metadata
    assert metadata["classes"] == ["setosa", "versicolor", "virginica"] and "positive_label" not in metadata
    import mlflow.sklearn

    test = read_table(out["test"])
    predicted = mlflow.sklearn.load_model(str(out["model"])).predict(test[features])
    metrics = load_json(out["evaluation"] / "metrics.json")
    assert metrics["precision"] == pytest.approx(precision_score(test["species"], predicted, average="macro"))


@pytest.mark.parametrize(
    ("classes", "given", "task", "expected"),
    [
        (["benign", "malignant"], None, "classification", "malignant"),
        (["benign", "malignant"], "benign", "classification", "benign"),
        ([0, 1], "0", "classification", 0),  # a pipeline input is text; "0" names the class 0
        ([True, False], "True", "classification", True),
        (["a", "b", "c"], None, "classification", None),
        ([], None, "regression", None),
    ],
)
def test_resolve_positive_label(classes, given, task, expected) -> None:
    assert resolve_positive_label(classes, given, task, "y") == expected


@pytest.mark.parametrize(
    ("classes", "given", "task", "message"),
    [
        (
            ["benign", "malignant"],
            "cancer",
            "classification",
            "positive_label: 'cancer' is not one of the classes of target 'y': 'benign', 'malignant'",
        ),
        (["a", "b", "c"], "a", "classification", "target 'y' has 3 classes ('a', 'b', 'c')"),
        ([], "1", "regression", "positive_label: '1' is given but task is 'regression'"),
    ],
)
def test_positive_label_refused(classes, given, task, message) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_positive_label(classes, given, task, "y")


def test_prep_refuses_an_unknown_positive_label_with_exit_2(tmp_path: Path, run_component) -> None:
    frame, features = cancer()
    line = prep_error(
        tmp_path,
        run_component,
        frame,
        target_column="diagnosis",
        numeric_features=",".join(features),
        positive_label="1",
    )
    assert line == "error: positive_label: '1' is not one of the classes of target 'diagnosis': 'benign', 'malignant'"


# --- gate thresholds ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "metric", "min_metric", "message"),
    [
        ("classification", "roc_auc", 1.5, r"min_metric: 1.5 is outside the range of roc_auc \(\[0, 1\]\)"),
        ("classification", "accuracy", -0.1, r"outside the range of accuracy \(\[0, 1\]\)"),
        ("regression", "r2", 1.2, r"min_metric: 1.2 is outside the range of r2 \(<= 1\)"),
        ("regression", "rmse", -3, r"outside the range of rmse \(>= 0\); min_metric is a ceiling"),
    ],
)
def test_gate_refuses_a_threshold_outside_the_metric_range(task, metric, min_metric, message) -> None:
    with pytest.raises(DataError, match=message):
        decide({metric: 0.5}, None, task=task, primary_metric=metric, min_metric=min_metric)


@pytest.mark.parametrize(
    ("metric", "value", "passed", "detail"),
    [
        ("r2", -0.2, False, "r2 -0.2000 < min_metric 0 (default for r2)"),
        ("r2", 0.45, True, "r2 0.4500 >= min_metric 0 (default for r2)"),
        ("rmse", 52.0, True, "no bound on rmse (default for rmse)"),
        ("mae", 10.0, True, "no bound on mae"),
    ],
)
def test_regression_defaults_do_not_inherit_a_classification_threshold(metric, value, passed, detail) -> None:
    decision = decide({metric: value}, None, task="regression", primary_metric=metric)
    assert decision["passed"] is passed and detail in decision["reason"]
    assert decision["min_metric_source"] == f"default for {metric}"


def test_a_negative_r2_floor_is_in_range() -> None:
    decision = decide({"r2": -0.1}, None, task="regression", primary_metric="r2", min_metric=-0.5)
    assert decision["passed"] is True and decision["min_metric"] == -0.5


def test_evaluate_refuses_an_out_of_range_threshold_with_exit_2(tmp_path: Path, run_component) -> None:
    args = command_args(
        "evaluate",
        model=tmp_path,
        test_data=tmp_path,
        target_column="y",
        task="regression",
        primary_metric="r2",
        model_name="m",
        min_metric=1.5,
        evaluation=tmp_path / "out",
    )
    result = run_component("evaluate", args)
    assert result.returncode == 2 and "error: min_metric: 1.5 is outside the range of r2 (<= 1)" in result.stderr


# --- sensitive feature --------------------------------------------------------------------------------------------


def test_a_numeric_sensitive_feature_is_refused_with_a_hint_to_bin_it(tmp_path: Path, run_component) -> None:
    frame, features = cancer()
    inputs = {"target_column": "diagnosis", "numeric_features": ",".join(features[1:])}
    line = prep_error(tmp_path, run_component, frame, **inputs, sensitive_feature="mean_radius")
    assert "sensitive_feature 'mean_radius' has" in line and "groups in 114 rows, more than 20" in line
    assert "bin it into a derived column" in line and "components/README.md" in line


def test_small_groups_are_refused_and_binned_groups_pass() -> None:
    groups = pd.Series(["a"] * 40 + ["b"] * 29 + [None] * 31)
    with pytest.raises(DataError, match=r"1 group\(s\) with fewer than 30 rows \('b' \(29\)\); bin it"):
        check_sensitive_groups(groups, "g", "test split")
    check_sensitive_groups(pd.Series(["a"] * 40 + ["b"] * 30 + [None] * 30), "g", "test split")  # nulls: a group
    ages = pd.Series(np.random.default_rng(0).integers(20, 80, 300))
    with pytest.raises(DataError, match="more than 20"):
        check_sensitive_groups(ages, "age", "test split")
    bands = pd.cut(ages, [0, 30, 50, 200], labels=["<30", "30-49", "50+"], right=False)
    check_sensitive_groups(bands, "age_band", "test split")


# --- continuous target --------------------------------------------------------------------------------------------


def test_classification_on_a_continuous_target_hints_regression(tmp_path: Path, run_component) -> None:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    assert looks_continuous(frame["target"])
    inputs = {"target_column": "target", "numeric_features": "age,bmi,bp", "task": "classification"}
    line = prep_error(tmp_path, run_component, frame, **inputs)
    assert "has only 1 row" in line
    assert "distinct values in 442 rows and looks continuous: use task 'regression'" in line


def test_few_valued_targets_do_not_look_continuous() -> None:
    assert not looks_continuous(pd.Series([0, 1] * 100))
    assert not looks_continuous(pd.Series(["a", "b"] * 100))
    assert not looks_continuous(pd.Series(np.arange(30).repeat(100)))  # 30 classes in 3000 rows: 1% distinct
