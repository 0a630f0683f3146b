"""Fairness per group and the evaluation plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairness import group_metrics
from plots import classification_plots, regression_plots


def test_binary_group_metrics() -> None:
    y_true = np.array([1, 0, 1, 1, 0, 1])
    y_pred = np.array([1, 0, 0, 1, 1, 1])
    groups = pd.Series(["F", "F", "F", "M", "M", None])
    result = group_metrics(y_true, y_pred, groups, "classification", classes=[0, 1])
    female = result["groups"]["F"]
    assert female == {
        "count": 3,
        "selection_rate": pytest.approx(1 / 3),
        "accuracy": pytest.approx(2 / 3),
        "recall": 0.5,
        "false_positive_rate": 0.0,  # one negative row, predicted negative
    }
    assert result["groups"]["M"]["selection_rate"] == 1.0
    assert result["groups"]["(missing)"]["count"] == 1
    assert result["differences"]["selection_rate"] == pytest.approx(2 / 3)
    assert result["differences"]["recall"] == pytest.approx(0.5)


def test_group_without_positives_has_no_recall() -> None:
    result = group_metrics(
        np.array([0, 0, 1]), np.array([0, 1, 1]), pd.Series(["a", "a", "b"]), "classification", [0, 1]
    )
    assert result["groups"]["a"]["recall"] is None
    assert result["differences"]["recall"] is None  # only one group has a recall


def test_regression_group_metrics() -> None:
    result = group_metrics(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 3.0, 6.0]), pd.Series(["a", "a", "b", "b"]), "regression"
    )
    assert result["groups"]["a"] == {"count": 2, "mean_prediction": 2.0, "mae": 0.5}
    assert result["differences"] == {"mean_prediction": 2.5, "mae": 0.5}


def test_plots_are_written(tmp_path: Path) -> None:
    y_true = np.array([0, 1, 1, 0, 1])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4], [0.7, 0.3]])
    written = classification_plots(y_true, proba.argmax(axis=1), proba, [0, 1], tmp_path)
    assert sorted(p.name for p in written) == ["confusion_matrix.png", "roc_curve.png"]
    written = regression_plots([1.0, 2.0, 3.0], [1.1, 2.2, 2.7], tmp_path)
    assert [p.name for p in written] == ["predicted_vs_actual.png"]
    for name in ("confusion_matrix.png", "roc_curve.png", "predicted_vs_actual.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_multiclass_roc_has_one_curve_per_class(tmp_path: Path) -> None:
    y_true = np.array(["a", "b", "c", "a", "b", "c"])
    proba = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.3, 0.4, 0.3], [0.2, 0.3, 0.5]]
    )
    predictions = np.array(["a", "b", "c"])[proba.argmax(axis=1)]
    written = classification_plots(y_true, predictions, proba, ["a", "b", "c"], tmp_path)
    assert {p.name for p in written} == {"confusion_matrix.png", "roc_curve.png"}
    result = group_metrics(
        y_true, predictions, pd.Series(["x", "x", "x", "y", "y", "y"]), "classification", ["a", "b", "c"]
    )
    assert "selection_rate" not in result["groups"]["x"]  # defined for binary tasks only
    assert result["disparities"] == {"accuracy_difference": result["differences"]["accuracy"]}


def test_disparities_equal_fairlearns_own_numbers() -> None:
    """A positive class other than 1 and groups of uneven size: the measures are fairlearn's, on that class."""
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    rng = np.random.default_rng(3)
    y_true = rng.choice(["no", "yes"], 400)
    y_pred = np.where(rng.random(400) < 0.8, y_true, np.where(y_true == "yes", "no", "yes"))
    groups = pd.Series(rng.choice(["a", "b", "c"], 400, p=[0.5, 0.3, 0.2]))
    result = group_metrics(y_true, y_pred, groups, "classification", ["no", "yes"], positive_label="yes")
    truth, pred = (y_true == "yes").astype(int), (y_pred == "yes").astype(int)
    expected_dp = demographic_parity_difference(truth, pred, sensitive_features=groups)
    expected_eo = equalized_odds_difference(truth, pred, sensitive_features=groups)
    assert result["disparities"]["demographic_parity_difference"] == pytest.approx(expected_dp)
    assert result["disparities"]["equalized_odds_difference"] == pytest.approx(expected_eo)
    rates = [row["selection_rate"] for row in result["groups"].values()]
    assert result["disparities"]["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates))


@pytest.mark.parametrize(
    ("metric", "task", "binary", "message"),
    [
        ("equalized_odds_difference", "regression", None, "for this regression model use one of mae_difference"),
        ("mae_difference", "classification", True, "is defined for regression"),
        ("demographic_parity_difference", "classification", False, "use one of accuracy_difference"),
        ("parity", "classification", True, "'parity' is not supported"),
    ],
)
def test_a_disparity_metric_the_task_does_not_define_is_refused(metric, task, binary, message) -> None:
    from fairness import check_disparity_metric
    from tabular_common.errors import DataError

    with pytest.raises(DataError, match=r"^disparity_metric: ") as raised:
        check_disparity_metric(metric, task, binary)
    assert message in str(raised.value)
