"""tabular_common.metrics: both tasks, binary and multiclass, and undefined metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from tabular_common.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    classification_metrics,
    higher_is_better,
    metric_names,
    regression_metrics,
    score_model,
)


def test_binary_classification_metrics() -> None:
    y_true = [0, 0, 1, 1, 1]
    y_pred = [0, 1, 1, 1, 0]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    result = classification_metrics(y_true, y_pred, proba, classes=[0, 1])
    assert list(result) == list(CLASSIFICATION_METRICS)
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["roc_auc"] == pytest.approx(5 / 6)
    expected_loss = -np.mean(np.log([0.9, 0.4, 0.8, 0.7, 0.4]))
    assert result["log_loss"] == pytest.approx(expected_loss)


def test_string_labels_use_the_second_class_as_positive() -> None:
    result = classification_metrics(["no", "yes", "yes"], ["yes", "yes", "yes"], classes=["no", "yes"])
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(1.0)
    assert "roc_auc" not in result  # no probabilities given


def test_multiclass_metrics_are_macro_averaged_and_roc_auc_is_ovr() -> None:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 2))
    y = np.digitize(x[:, 0], [-0.5, 0.5])
    model = LogisticRegression().fit(x, y)
    result = score_model(model, x, y, "classification")
    assert set(result) == set(CLASSIFICATION_METRICS)
    predicted = model.predict(x)
    assert result["precision"] == pytest.approx(precision_score(y, predicted, average="macro"))
    assert result["recall"] == pytest.approx(recall_score(y, predicted, average="macro"))
    assert result["f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, model.predict_proba(x), multi_class="ovr"))
    assert 0.8 < result["roc_auc"] <= 1.0


def test_a_positive_label_that_sorts_first() -> None:
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    result = classification_metrics(["no", "no", "yes"], ["no", "yes", "yes"], proba, ["no", "yes"], "no")
    assert result["precision"] == pytest.approx(1.0) and result["recall"] == pytest.approx(0.5)
    assert result["roc_auc"] == pytest.approx(1.0)  # P(no) ranks both "no" rows above the "yes" row


def test_roc_auc_is_left_out_when_the_test_split_has_one_class() -> None:
    proba = np.array([[0.3, 0.7], [0.2, 0.8]])
    result = classification_metrics([1, 1], [1, 1], proba, classes=[0, 1])
    assert "roc_auc" not in result
    assert result["accuracy"] == 1.0


def test_regression_metrics() -> None:
    result = regression_metrics([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0])
    assert list(result) == list(REGRESSION_METRICS)
    assert result["mae"] == pytest.approx(0.625)
    assert result["mse"] == pytest.approx(0.5625)
    assert result["rmse"] == pytest.approx(0.75)
    assert result["r2"] == pytest.approx(1 - 0.5625 * 4 / 5)
    model = LinearRegression().fit([[1], [2], [3]], [2, 4, 6])
    assert score_model(model, [[4]], [8.0], "regression")["mae"] == pytest.approx(0.0, abs=1e-9)
    assert "r2" not in score_model(model, [[4]], [8.0], "regression")  # undefined for one row


def test_directions_and_names() -> None:
    assert [m for m in CLASSIFICATION_METRICS + REGRESSION_METRICS if not higher_is_better(m)] == [
        "log_loss",
        "mae",
        "mse",
        "rmse",
    ]
    assert metric_names("regression") == REGRESSION_METRICS
    assert all(math.isfinite(v) for v in regression_metrics([1, 2], [1, 3]).values())
