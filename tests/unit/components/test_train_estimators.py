"""train: estimator construction, hyperparameter filtering, the pipeline, and the saved MLflow model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from estimators import ESTIMATORS, applicable_hyperparameters, build_estimator, build_pipeline
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from tabular_common.errors import DataError
from tabular_common.schema import ColumnSpec
from train import model_metadata, save_model, training_frame

HYPERPARAMETERS = {
    "c": 0.5,
    "max_iter": 200,
    "n_estimators": 10,
    "max_depth": None,
    "learning_rate": 0.2,
    "min_samples_leaf": 2,
    "seed": 7,
}


def test_the_sample_values_cover_the_estimator_table() -> None:
    import estimators

    assert set(HYPERPARAMETERS) == {parameter.name for parameter in estimators.HYPERPARAMETERS}


@pytest.mark.parametrize(
    ("estimator", "task", "cls", "expected"),
    [
        ("logistic_regression", "classification", LogisticRegression, {"c": 0.5, "max_iter": 200, "seed": 7}),
        ("linear_regression", "regression", Ridge, {"c": 0.5}),
        (
            "random_forest",
            "regression",
            RandomForestRegressor,
            {"n_estimators": 10, "min_samples_leaf": 2, "seed": 7},
        ),
        (
            "gradient_boosting",
            "classification",
            GradientBoostingClassifier,
            {"n_estimators": 10, "learning_rate": 0.2, "min_samples_leaf": 2, "seed": 7},
        ),
    ],
)
def test_only_applicable_hyperparameters_are_passed(estimator: str, task: str, cls: type, expected: dict) -> None:
    model, used = build_estimator(estimator, task, HYPERPARAMETERS)
    assert isinstance(model, cls)
    assert used == expected


def test_hyperparameter_mapping() -> None:
    logistic, _ = build_estimator("logistic_regression", "classification", HYPERPARAMETERS)
    assert (logistic.C, logistic.max_iter, logistic.random_state) == (0.5, 200, 7)
    ridge, _ = build_estimator("linear_regression", "regression", HYPERPARAMETERS)
    assert ridge.alpha == pytest.approx(2.0)  # alpha = 1 / c
    boosting, _ = build_estimator("gradient_boosting", "regression", HYPERPARAMETERS)
    assert boosting.max_depth == 3  # unset max_depth keeps the estimator's default
    boosting, used = build_estimator("gradient_boosting", "regression", HYPERPARAMETERS | {"max_depth": 5})
    assert boosting.max_depth == 5 and used["max_depth"] == 5


@pytest.mark.parametrize(
    ("estimator", "task", "message"),
    [
        ("logistic_regression", "regression", "'logistic_regression' cannot be used for task 'regression'"),
        ("linear_regression", "classification", "'linear_regression' cannot be used for task 'classification'"),
        ("svm", "classification", "estimator: 'svm' is not supported"),
    ],
)
def test_invalid_combinations(estimator: str, task: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        build_estimator(estimator, task, HYPERPARAMETERS)


def test_invalid_combination_lists_the_usable_estimators() -> None:
    with pytest.raises(
        DataError, match="for regression use one of: linear_regression, random_forest, gradient_boosting"
    ):
        build_estimator("logistic_regression", "regression", HYPERPARAMETERS)


@pytest.mark.parametrize(
    ("estimator", "bad", "message"),
    [
        ("logistic_regression", {"c": 0}, "c: 0 is not valid for logistic_regression; expected a number > 0"),
        ("random_forest", {"n_estimators": 0}, "n_estimators: 0 is not valid"),
        ("gradient_boosting", {"learning_rate": -1.0}, "learning_rate: -1.0 is not valid"),
        ("random_forest", {"max_depth": 0}, "max_depth: 0 is not valid"),
    ],
)
def test_out_of_range_hyperparameters(estimator: str, bad: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        applicable_hyperparameters(estimator, "classification", HYPERPARAMETERS | bad)


def test_irrelevant_hyperparameters_are_not_range_checked() -> None:
    # learning_rate does not apply to a random forest, so a bad value there is not an error
    assert "learning_rate" not in applicable_hyperparameters("random_forest", "classification", {"learning_rate": -1})


def test_every_estimator_fits_its_tasks(frame: pd.DataFrame) -> None:
    features = frame[["plasma_glucose", "bmi", "age", "sex"]].astype({"age": "float64", "sex": "str"})
    for name, kind in ESTIMATORS.items():
        for task in kind.classes:
            target = frame["diabetic"] if task == "classification" else frame["plasma_glucose"] * 2
            model, _ = build_estimator(name, task, HYPERPARAMETERS)
            pipeline = build_pipeline(["plasma_glucose", "bmi", "age"], ["sex"], model).fit(features, target)
            assert len(pipeline.predict(features.head(3))) == 3


def test_pipeline_without_categorical_features(frame: pd.DataFrame) -> None:
    model, _ = build_estimator("logistic_regression", "classification", HYPERPARAMETERS)
    pipeline = build_pipeline(["plasma_glucose", "bmi"], [], model)
    assert [name for name, *_ in pipeline.named_steps["preprocess"].transformers] == ["numeric"]
    pipeline.fit(frame[["plasma_glucose", "bmi"]], frame["diabetic"])


def test_saved_model_has_string_categoricals_metadata_and_loads(tmp_path: Path, frame: pd.DataFrame) -> None:
    import mlflow.sklearn
    from mlflow.models import Model
    from tabular_common.io import write_mltable

    spec = ColumnSpec.from_inputs("diabetic", "plasma_glucose,bmi,age", "sex")
    features, target = training_frame(str(write_mltable(frame, tmp_path / "train")), spec)
    model, _ = build_estimator("random_forest", "classification", HYPERPARAMETERS)
    pipeline = build_pipeline(spec.numeric, spec.categorical, model).fit(features, target)
    out = tmp_path / "model_output"
    out.mkdir()  # an Azure ML output folder exists and is empty
    save_model(pipeline, features, out, model_metadata("run123", spec, "random_forest", pipeline))

    saved = Model.load(str(out))
    assert saved.metadata["training_run_id"] == "run123"
    assert saved.metadata["categorical_features"] == ["sex"]
    assert saved.metadata["classes"] == [0, 1]
    inputs = {c["name"]: c["type"] for c in saved.signature.inputs.to_dict()}
    assert inputs == {"plasma_glucose": "double", "bmi": "double", "age": "double", "sex": "string"}
    assert (out / "input_example.json").is_file()
    assert "scikit-learn==" in (out / "requirements.txt").read_text()
    loaded = mlflow.sklearn.load_model(str(out))
    assert (loaded.predict(features) == pipeline.predict(features)).all()
    pyfunc = mlflow.pyfunc.load_model(str(out))
    assert set(pyfunc.predict(features.head(10))) <= {0, 1}  # class labels, not probabilities

    with pytest.raises(DataError, match="is not empty"):
        save_model(pipeline, features, out, {})
