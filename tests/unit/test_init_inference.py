"""What `mlops init` infers from a table, on tables shipped inside scikit-learn (no downloads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from mlops.authoring.calibrate import _round_down, _round_up
from mlops.authoring.infer import id_columns, infer, infer_task, positive_label, split_production
from mlops.errors import MlopsError


def with_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(record_id=np.arange(100_000, 100_000 + len(frame)))


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    return with_id(frame.assign(target=np.where(frame["target"] == 0, "malignant", "benign")))


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return with_id(load_wine(as_frame=True).frame.assign(target=lambda f: "cultivar_" + f["target"].astype(str)))


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return with_id(frame.assign(sex=np.where(frame["sex"] == 1, "female", "male")))


def test_binary_with_string_labels(cancer):
    result = infer(cancer, "target", {})
    values = result.values
    assert values["task"] == "classification"
    assert values["id_column"] == "record_id"
    assert values["positive_label"] == "malignant"  # the rarer class: 212 of 569
    assert values["primary_metric"] == "roc_auc"
    assert values["min_metric"] == pytest.approx(0.55)  # a dummy scores 0.5 on ROC AUC
    assert "record_id" not in values["numeric_features"] + values["categorical_features"]
    assert len(values["numeric_features"]) == 30 and values["categorical_features"] == []
    assert any(reason.startswith("positive_label: malignant — the rarer class") for reason in result.reasons)


def test_multiclass(wine):
    values = infer(wine, "target", {}).values
    assert values["task"] == "classification"
    assert values["primary_metric"] == "f1"
    assert "positive_label" not in values
    assert 0.05 < values["min_metric"] < 0.5


def test_regression_with_a_categorical_feature(diabetes):
    values = infer(diabetes, "target", {"sensitive_feature": "sex"}).values
    assert values["task"] == "regression"
    assert values["primary_metric"] == "r2"
    assert "sex" in values["categorical_features"]
    assert values["sensitive_feature"] == "sex"
    assert values["min_metric"] < 0.1


def test_flags_win_over_inference(cancer):
    given = {"task": "classification", "positive_label": "benign", "primary_metric": "f1", "min_metric": 0.9}
    values = infer(cancer, "target", given).values
    assert (values["positive_label"], values["primary_metric"], values["min_metric"]) == ("benign", "f1", 0.9)


@pytest.mark.parametrize(
    ("series", "task"),
    [
        (pd.Series(["a", "b"] * 200), "classification"),
        (pd.Series([True, False] * 200), "classification"),
        (pd.Series([0, 1, 2] * 200), "classification"),
        (pd.Series(np.linspace(0, 1, 400)), "regression"),
        (pd.Series(np.arange(400)), "regression"),
    ],
)
def test_task_rule(series, task):
    assert infer_task(series)[0] == task


def test_conventional_positive_labels():
    assert positive_label(pd.Series(["no", "yes", "no"]))[0] == "yes"
    assert positive_label(pd.Series([0, 1, 1, 1]))[0] == 1
    assert positive_label(pd.Series(["cat", "dog", "dog"]))[0] == "cat"


def test_keys_are_never_features():
    frame = pd.DataFrame(
        {
            "id": range(300),
            "code": [f"c{i}" for i in range(300)],
            "x": np.random.default_rng(0).normal(size=300),
            "y": [0, 1] * 150,
        }
    )
    assert id_columns(frame, "y") == ["id", "code"]


def test_a_continuous_target_as_classification_hints_regression(diabetes):
    with pytest.raises(MlopsError, match="the target looks continuous — use --task regression"):
        infer(diabetes, "target", {"task": "classification"})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"positive_label": "maybe"}, "--positive-label maybe: not a class of target"),
        ({"sensitive_feature": "height"}, "--sensitive-feature height: not one of the features"),
        ({"id_column": "nope"}, "--id-column nope: no such column"),
    ],
)
def test_bad_flags_name_the_flag(cancer, given, message):
    with pytest.raises(MlopsError, match=message):
        infer(cancer, "target", given)


def test_bad_tables_are_refused(cancer):
    with pytest.raises(MlopsError, match="--target label: no such column"):
        infer(cancer, "label", {})
    with pytest.raises(MlopsError, match="needs at least 100"):
        infer(cancer.head(80), "target", {})
    with pytest.raises(MlopsError, match="no id column"):
        infer(cancer.drop(columns="record_id"), "target", {})


def test_production_window_is_a_seeded_share(cancer):
    training, production = split_production(cancer, 0.2, seed=7)
    again = split_production(cancer, 0.2, seed=7)[1]
    assert len(production) == round(0.2 * len(cancer)) and len(training) + len(production) == len(cancer)
    assert production.index.equals(again.index)
    assert not set(training.index) & set(production.index)
    with pytest.raises(MlopsError, match=r"--holdout 0\.7"):
        split_production(cancer, 0.7, seed=7)


def test_threshold_rounding():
    assert _round_up(0.0437) == 0.044 and _round_up(123.4) == 130.0
    assert _round_down(0.876) == 0.87 and _round_up(0.0) == 0.0
