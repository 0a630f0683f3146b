"""responsible_ai_insights: explanations rank the features that carry the signal first, and error analysis finds a
planted failure region (the script itself: test_component_scripts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from error_analysis import errors_of, feature_cohorts, tree_cohorts
from explain import permutation_ranking, score_function, surrogate


@pytest.fixture(scope="module")
def signal_table() -> tuple[pd.DataFrame, pd.Series]:
    """Six features; only x1 and x2 decide the label."""
    rng = np.random.default_rng(7)
    n = 1200
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(1, 6)})
    frame["colour"] = rng.choice(["red", "green", "blue"], n)
    logit = 2.5 * frame["x1"] - 2.0 * frame["x2"]
    label = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), name="y")
    return frame, label


@pytest.fixture(scope="module")
def fitted(signal_table):
    from estimators import build_estimator, build_pipeline

    frame, label = signal_table
    estimator, _ = build_estimator("random_forest", "classification", {"n_estimators": 60, "max_depth": 6, "seed": 0})
    return build_pipeline([f"x{i}" for i in range(1, 6)], ["colour"], estimator).fit(frame, label)


def test_permutation_importance_ranks_the_two_signal_features_first(signal_table, fitted) -> None:
    frame, label = signal_table
    ranking = permutation_ranking(fitted, frame, label, score_function("classification", [0, 1], 1), seed=0)
    assert {row["feature"] for row in ranking[:2]} == {"x1", "x2"}
    assert ranking[1]["importance"] > 5 * max(abs(row["importance"]) for row in ranking[2:])


def test_the_surrogate_agrees_with_the_model_and_ranks_the_same_two_first(signal_table, fitted) -> None:
    frame, _ = signal_table
    result = surrogate(fitted, frame, "classification", seed=0, local_rows=3)
    assert result["fidelity"] > 0.9
    assert {row["feature"] for row in result["global"][:2]} == {"x1", "x2"}
    assert len(result["local"]) == 3
    for row in result["local"]:
        contributions = [abs(c["contribution"]) for c in row["contributions"]]
        assert contributions == sorted(contributions, reverse=True) and len(contributions) == 6
        assert row["model_prediction"] in (0, 1)


def test_error_analysis_finds_the_planted_failure_region() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    frame = pd.DataFrame(
        {"age": rng.uniform(20, 80, n), "bmi": rng.uniform(18, 40, n), "smoker": rng.choice(["no", "yes"], n)}
    )
    planted = (frame["age"] > 65) & (frame["smoker"] == "yes")  # the model is wrong here 90% of the time
    errors = np.where(planted, rng.random(n) < 0.9, rng.random(n) < 0.05)
    worst = tree_cohorts(frame, errors, min_rows=30)[0]
    assert "smoker = yes" in worst["conditions"] and "age > 6" in worst["conditions"]
    assert worst["error_rate"] > 0.8 and 30 <= worst["rows"] <= planted.sum() * 1.1
    ages = [float(part.split(">")[1]) for part in worst["conditions"].split(" and ") if part.startswith("age >")]
    assert max(ages) >= 60  # inside the planted region (age > 65), give or take the tree's split point
    by_feature = feature_cohorts(frame, errors, min_rows=30)
    top = by_feature[0]["conditions"]
    assert top == "smoker = yes" or (top.startswith(f"{np.quantile(frame['age'], 0.75):.4g} <= age <="))
    assert all(cohort["rows"] >= 30 for cohort in by_feature)


def test_regression_errors_are_the_worst_quarter() -> None:
    truth = np.arange(8, dtype=float)
    predicted = truth + np.array([0, 0, 0, 0, 0, 0, 3, 5])
    assert errors_of("regression", truth, predicted).tolist() == [False] * 6 + [True, True]


def test_multiclass_and_regression_models_are_explained_too(signal_table) -> None:
    from estimators import build_estimator, build_pipeline

    frame, _ = signal_table
    three = pd.Series(np.digitize(frame["x1"] - frame["x2"], [-1, 1]), name="y")  # classes 0, 1, 2
    numeric = [f"x{i}" for i in range(1, 6)]
    forest, _ = build_estimator("random_forest", "classification", {"n_estimators": 30, "max_depth": 5, "seed": 0})
    model = build_pipeline(numeric, ["colour"], forest).fit(frame, three)
    result = surrogate(model, frame, "classification", seed=0, local_rows=2)
    assert all(isinstance(c["contribution"], float) for row in result["local"] for c in row["contributions"])
    assert {row["feature"] for row in result["global"][:2]} == {"x1", "x2"}
    value = frame["x1"] * 3 + frame["x3"]
    ridge, _ = build_estimator("linear_regression", "regression", {"c": 1.0})
    regression = build_pipeline(numeric, ["colour"], ridge).fit(frame, value)
    fitted = surrogate(regression, frame, "regression", seed=0, local_rows=1)
    assert fitted["fidelity"] > 0.9 and fitted["global"][0]["feature"] == "x1"
    ranking = permutation_ranking(regression, frame, value, score_function("regression", [], None), seed=0)
    assert [row["feature"] for row in ranking[:2]] == ["x1", "x3"]
