"""Local AutoML: Azure's names mapped to FLAML's, the settings an AutoML job gives the runner, the runner's column
roles and validation scheme, and Azure's primary metrics computed by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from azure.ai.ml import load_job

from mlops.errors import MlopsError
from mlops.project import automl

RUNNER = Path(automl.__file__).parent / "automl_step"
SHARED = Path(__file__).resolve().parents[2] / "components" / "shared"
sys.path[:0] = [str(RUNNER), str(SHARED)]

import automl_metrics  # noqa: E402  (the runner's code folder, as the step imports it)
import automl_train  # noqa: E402

BASE = """\
$schema: https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json
type: automl
task: {task}
target_column_name: y
training_data:
  type: mltable
  path: ./data
"""


def spec(tmp_path: Path, extra: str = "", task: str = "classification") -> automl.AutoML:
    file = tmp_path / "job.yml"
    file.write_text(BASE.format(task=task) + extra)
    return automl.AutoML.of(load_job(file), "job.yml: ")


def test_defaults_are_azures(tmp_path: Path) -> None:
    found = spec(tmp_path)
    # azure-ai-ml's YAML schema loads AUC_weighted when primary_metric is left out (its Python classes: accuracy)
    assert found.primary_metric == "AUC_weighted" and found.timeout_minutes == 360 and found.max_trials == 1000
    assert found.validation == "auto" and found.featurization == "auto" and not found.early_termination
    assert set(found.learners) == {"lrl1", "lrl2", "sgd", "kneighbor", "rf", "extra_tree", "lgbm", "xgboost", "histgb"}
    assert any("ensembles" in note for note in found.notes)  # Azure's ensembles are on by default: said
    assert spec(tmp_path, task="regression").primary_metric == "normalized_root_mean_squared_error"


def test_allowed_minus_blocked_in_azures_order(tmp_path: Path) -> None:
    found = spec(
        tmp_path,
        "training:\n  allowed_training_algorithms: [LightGBM, LogisticRegression, RandomForest]\n"
        "  blocked_training_algorithms: [RandomForest]\n",
    )
    assert found.learners == ("lgbm", "lrl1", "lrl2")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "training:\n  allowed_training_algorithms: [LightGBM, BernoulliNaiveBayes]\n",
            "BernoulliNaiveBayes has no local counterpart (FLAML has no naive Bayes); the local target runs "
            "LogisticRegression, SGD, KNN",
        ),
        ("training:\n  blocked_training_algorithms: [DecisionTree]\n", "DecisionTree has no local counterpart"),
        (
            "training:\n  allowed_training_algorithms: [LightGBM]\n  blocked_training_algorithms: [LightGBM]\n",
            "every algorithm is blocked",
        ),
        ("featurization:\n  mode: custom\n", "featurization.mode: custom runs on Azure ML only"),
        ("validation_data_size: 0.2\nn_cross_validations: 5\n", "give one of validation_data"),
        ("n_cross_validations: 1\n", "n_cross_validations: expected auto or an integer >= 2"),
        ("limits:\n  max_trials: 0\n", "limits.max_trials: expected an integer >= 1"),
    ],
)
def test_refused_settings_name_the_field(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(MlopsError, match=r"^job\.yml: ") as raised:
        spec(tmp_path, extra)
    assert message in str(raised.value)


FORECAST = "forecasting:\n  time_column_name: t\n  forecast_horizon: 7\n"


def test_forecasting_settings_reach_the_runner(tmp_path: Path) -> None:
    found = spec(
        tmp_path, FORECAST + "training:\n  allowed_training_algorithms: [SeasonalNaive, LightGBM]\n", "forecasting"
    )
    assert found.learners == ("snaive", "lgbm") and found.primary_metric == "normalized_root_mean_squared_error"
    arguments = found.arguments()
    assert (arguments["time_column_name"], arguments["forecast_horizon"], arguments["frequency"]) == ("t", 7, None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            FORECAST + "training:\n  allowed_training_algorithms: [AutoArima]\n",
            "AutoArima has no local counterpart (FLAML's ARIMA needs statsmodels, which the lock does not install)",
        ),
        (
            FORECAST + "training:\n  allowed_training_algorithms: [KNN]\n",
            "KNN has no local counterpart (FLAML has no forecasting counterpart)",
        ),
        (FORECAST + "  time_series_id_column_names: [store]\n", "several series run on Azure ML only"),
        ("forecasting:\n  time_column_name: t\n  forecast_horizon: auto\n", "auto runs on Azure ML only"),
        ("forecasting:\n  forecast_horizon: 7\n", "forecasting.time_column_name: required"),
    ],
)
def test_forecasting_refusals_name_the_field(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(MlopsError) as raised:
        spec(tmp_path, extra, "forecasting")
    assert message in str(raised.value)


def test_the_series_is_checked_before_the_search(tmp_path: Path) -> None:
    class Args:
        training_data = str(tmp_path / "s.csv")
        time_column_name, target_column_name, forecast_horizon = "t", "y", 2

    pd.DataFrame({"t": ["2026-01-02", "2026-01-01", "2026-01-03"] * 2, "y": range(6)}).to_csv(Args.training_data)
    with pytest.raises(automl_train.DataError, match="repeats timestamps"):
        automl_train.series(Args)
    pd.DataFrame({"t": ["2026-01-01", "soon"], "y": [1, 2]}).to_csv(Args.training_data)
    with pytest.raises(automl_train.DataError, match="column 't' row 2: 'soon' is not a date"):
        automl_train.series(Args)
    days = pd.date_range("2026-01-01", periods=6).strftime("%Y-%m-%d")
    pd.DataFrame({"t": days[::-1], "y": range(6)}).to_csv(Args.training_data)
    ordered = automl_train.series(Args)
    assert ordered["t"].is_monotonic_increasing and ordered["y"].tolist() == [5, 4, 3, 2, 1, 0]


def test_limits_and_validation_reach_the_runner(tmp_path: Path) -> None:
    found = spec(
        tmp_path,
        "primary_metric: AUC_weighted\nvalidation_data_size: 0.25\nlimits:\n  timeout_minutes: 3\n"
        "  trial_timeout_minutes: 1\n  max_trials: 7\n  enable_early_termination: true\n  max_concurrent_trials: 4\n",
    )
    arguments = found.arguments()
    assert arguments["primary_metric"] == "AUC_weighted" and arguments["validation"] == "size:0.25"
    assert (arguments["timeout_minutes"], arguments["trial_timeout_minutes"], arguments["max_trials"]) == (3, 1, 7)
    assert arguments["early_termination"] is True and "max_concurrent_trials 4" in arguments["notes"]
    assert spec(tmp_path, "n_cross_validations: 5\n").validation == "cv:5"


def test_metric_names_are_the_runners() -> None:
    assert set(automl.METRICS["classification"]) == set(automl_metrics.CLASSIFICATION)
    assert set(automl.METRICS["regression"]) == set(automl_metrics.REGRESSION)


def test_azure_default_validation_scheme_by_row_count() -> None:
    class Args:
        validation = "auto"

    assert automl_train.evaluation(Args, 999)[0] == {"eval_method": "cv", "n_splits": 10}
    assert automl_train.evaluation(Args, 20_000)[0] == {"eval_method": "cv", "n_splits": 3}
    assert automl_train.evaluation(Args, 20_001)[0] == {"eval_method": "holdout", "split_ratio": 0.1}


def test_column_roles_drop_identifiers_and_empty_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": [10, 11, 12, 13],
            "x": [0.5, 0.5, 1.5, 2.0],
            "city": ["a", "b", "a", "c"],
            "blank": [None] * 4,
            "y": [0, 1, 0, 1],
        }
    )
    numeric, categorical, dropped = automl_train.column_roles(frame, "y", "t.csv")
    assert (numeric, categorical) == (["x"], ["city"])
    assert dropped == ["id (an identifier: every value distinct)", "blank (empty)"]
    with pytest.raises(automl_train.DataError, match=r"target_column_name: 'z' is not a column of t\.csv"):
        automl_train.column_roles(frame, "z", "t.csv")


def test_xgboost_is_left_out_for_labels_it_cannot_learn(capsys) -> None:
    assert automl_train.usable_learners("lgbm,xgboost", [0, 1]) == "lgbm,xgboost"
    assert automl_train.usable_learners("lgbm,xgboost", ["no", "yes"]) == "lgbm"
    assert "XGBoost left out" in capsys.readouterr().out
    with pytest.raises(automl_train.DataError, match="XGBoost alone"):
        automl_train.usable_learners("xgboost", ["no", "yes"])


def test_classification_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]]
    )
    # predictions 0,1,1,1,2,0: recall per class 1/2, 2/2, 1/2 -> macro 2/3; chance 1/3 -> (2/3-1/3)/(2/3) = 0.5
    assert automl_metrics.norm_macro_recall(y, proba) == pytest.approx(0.5)
    assert automl_metrics.accuracy(y, proba) == pytest.approx(4 / 6)
    # precision per class: 0 -> 1/2, 1 -> 2/3, 2 -> 1/1; equal supports -> mean
    assert automl_metrics.precision_score_weighted(y, proba) == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    binary = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    # positives (1, 3) score 0.7 and 0.8, negatives 0.1 and 0.4: every pair ordered -> AUC 1
    assert automl_metrics.auc_weighted(np.array([0, 1, 0, 1]), binary) == 1.0


def test_regression_metrics_by_hand() -> None:
    y, predicted = np.array([0.0, 2.0, 4.0]), np.array([1.0, 2.0, 3.0])
    # errors 1, 0, 1 over a range of 4: rmse sqrt(2/3), mae 2/3
    assert automl_metrics.normalized_root_mean_squared_error(y, predicted) == pytest.approx(np.sqrt(2 / 3) / 4)
    assert automl_metrics.normalized_mean_absolute_error(y, predicted) == pytest.approx((2 / 3) / 4)
    assert automl_metrics.spearman_correlation(y, predicted) == pytest.approx(1.0)
    assert automl_metrics.r2(y, predicted) == pytest.approx(1 - 2 / 8)
