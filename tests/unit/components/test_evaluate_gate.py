"""gate.decide: the registration gate, table-driven."""

from __future__ import annotations

import pytest
from gate import decide
from tabular_common.errors import DataError

CANDIDATE = {"accuracy": 0.80, "roc_auc": 0.85, "log_loss": 0.40}
BETTER_CHAMPION = {"accuracy": 0.82, "roc_auc": 0.90, "log_loss": 0.35}
WORSE_CHAMPION = {"accuracy": 0.75, "roc_auc": 0.80, "log_loss": 0.50}

CASES = [
    # id, kwargs, expected (passed, would_register, register), reason fragment
    ("better than champion", {"champion": WORSE_CHAMPION, "champion_version": 3}, (True, True, True), "registering"),
    ("worse than champion", {"champion": BETTER_CHAMPION, "champion_version": 3}, (False, False, False), "-0.0500"),
    ("no champion", {}, (True, True, True), "no champion"),
    ("below min_metric", {"min_metric": 0.9}, (False, False, False), "roc_auc 0.8500 < min_metric 0.9"),
    ("meets min_metric", {"min_metric": 0.85}, (True, True, True), ">= min_metric 0.85"),
    (
        "improvement too small",
        {"champion": WORSE_CHAMPION, "champion_version": 3, "min_improvement": 0.1},
        (False, False, False),
        "+0.0500, < min_improvement 0.1",
    ),
    (
        "improvement exactly the minimum (float noise tolerated)",
        {"champion": {"roc_auc": 0.75}, "champion_version": 1, "min_improvement": 0.1},
        (True, True, True),
        "+0.1000",
    ),
    (
        "lower is better: lower log_loss wins",
        {"primary_metric": "log_loss", "champion": WORSE_CHAMPION, "champion_version": 2},
        (True, True, True),
        "+0.1000",
    ),
    (
        "lower is better: higher log_loss loses",
        {"primary_metric": "log_loss", "champion": BETTER_CHAMPION, "champion_version": 2},
        (False, False, False),
        "-0.0500",
    ),
    (
        "lower is better: min_metric is a ceiling",
        {"primary_metric": "log_loss", "min_metric": 0.3},
        (False, False, False),
        "log_loss 0.4000 > ceiling 0.3",
    ),
    (
        "lower is better: 0 means no ceiling",
        {"primary_metric": "log_loss", "min_metric": 0},
        (True, True, True),
        "no ceiling",
    ),
    ("lower is better: no default bound", {"primary_metric": "log_loss"}, (True, True, True), "no bound on log_loss"),
    (
        "roc_auc default: better than chance",
        {"candidate": {"roc_auc": 0.45}},
        (False, False, False),
        "min_metric 0.5 (default for roc_auc)",
    ),
    (
        "dry_run: failing checks reported, not enforced",
        {"mode": "dry_run", "champion": BETTER_CHAMPION, "champion_version": 3},
        (False, False, True),
        "Dry run: an enabled gate would not register",
    ),
    ("dry_run: passing", {"mode": "dry_run"}, (True, True, True), "would register"),
    ("disabled: checks skipped", {"mode": "disabled", "min_metric": 0.99}, (None, True, True), "disabled"),
    (
        "unscorable champion fails the comparison",
        {"champion_version": 4, "champion_error": "loading failed (no such artifact)"},
        (False, False, False),
        "champion version 4 could not be evaluated: loading failed",
    ),
    (
        "champion without the metric",
        {"champion": {"accuracy": 0.5}, "champion_version": 4},
        (False, False, False),
        "has no roc_auc",
    ),
    ("candidate metric undefined", {"candidate": {"accuracy": 0.8}}, (False, False, False), "could not be computed"),
]


@pytest.mark.parametrize(("kwargs", "expected", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gate(kwargs: dict, expected: tuple, fragment: str) -> None:
    args = {
        "candidate": CANDIDATE,
        "champion": None,
        "task": "classification",
        "primary_metric": "roc_auc",
    } | kwargs
    candidate, champion = args.pop("candidate"), args.pop("champion")
    decision = decide(candidate, champion, **args)
    assert (decision["passed"], decision["would_register"], decision["register"]) == expected
    assert fragment in decision["reason"]
    assert decision["reason"].count("\n") == 0


def test_decision_record_shape() -> None:
    decision = decide(CANDIDATE, WORSE_CHAMPION, task="classification", primary_metric="roc_auc", champion_version=3)
    assert list(decision) == [
        "mode",
        "primary_metric",
        "higher_is_better",
        "candidate_value",
        "champion_version",
        "champion_value",
        "improvement",
        "min_metric",
        "min_metric_source",
        "min_improvement",
        "max_disparity",
        "disparity",
        "checks",
        "passed",
        "would_register",
        "register",
        "reason",
    ]
    assert decision["champion_version"] == "3"
    assert decision["improvement"] == pytest.approx(0.05)
    assert [check["name"] for check in decision["checks"]] == ["min_metric", "min_improvement"]
    assert all(set(check) == {"name", "passed", "detail"} for check in decision["checks"])
    disabled = decide(CANDIDATE, None, task="classification", primary_metric="roc_auc", mode="disabled")
    assert disabled["checks"] == []


def test_regression_rmse() -> None:
    decision = decide(
        {"rmse": 10.0, "r2": 0.5},
        {"rmse": 12.0, "r2": 0.4},
        task="regression",
        primary_metric="rmse",
        champion_version=1,
        min_improvement=1.5,
    )
    assert decision["higher_is_better"] is False
    assert decision["improvement"] == pytest.approx(2.0)
    assert decision["register"] is True


@pytest.mark.parametrize(
    ("task", "metric", "mode", "message"),
    [
        ("regression", "roc_auc", "enabled", "primary_metric: 'roc_auc' is not a regression metric; valid: mae, mse"),
        ("classification", "rmse", "enabled", "valid: accuracy, precision, recall, f1, roc_auc, log_loss"),
        ("classification", "roc_auc", "strict", "gate_mode: 'strict' is not supported"),
    ],
)
def test_configuration_errors(task: str, metric: str, mode: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        decide({}, None, task=task, primary_metric=metric, mode=mode)


def disparity(value, bound=0.1):
    return {"metric": "demographic_parity_difference", "value": value, "max": bound, "sensitive_feature": "sex"}


@pytest.mark.parametrize(
    ("mode", "value", "expected", "fragment"),
    [
        ("enabled", 0.25, (False, False, False), "demographic_parity_difference over sex 0.2500 > max_disparity 0.1"),
        ("enabled", 0.04, (True, True, True), "demographic_parity_difference over sex 0.0400 <= max_disparity 0.1"),
        ("enabled", None, (False, False, False), "could not be computed"),
        ("dry_run", 0.25, (False, False, True), "an enabled gate would not register it"),
        ("disabled", 0.25, (None, True, True), "gate_mode disabled"),
    ],
)
def test_the_fairness_check_blocks_or_passes_in_each_mode(mode, value, expected, fragment) -> None:
    result = decide(
        CANDIDATE, None, task="classification", primary_metric="roc_auc", mode=mode, disparity=disparity(value)
    )
    assert (result["passed"], result["would_register"], result["register"]) == expected
    assert fragment in result["reason"] or any(fragment in c["detail"] for c in result["checks"])
    assert result["max_disparity"] == 0.1 and result["disparity"]["value"] == value
    if mode != "disabled":
        assert [c["name"] for c in result["checks"]] == ["min_metric", "min_improvement", "max_disparity"]


def test_without_max_disparity_there_is_no_fairness_check() -> None:
    result = decide(CANDIDATE, None, task="classification", primary_metric="roc_auc")
    assert "max_disparity" not in [c["name"] for c in result["checks"]] and result["max_disparity"] is None


@pytest.mark.parametrize(
    ("bound", "sensitive", "message"),
    [(-0.1, "sex", "max_disparity: expected a number >= 0"), (0.1, None, "max_disparity: needs a sensitive_feature")],
)
def test_a_max_disparity_the_gate_cannot_apply_is_refused(bound, sensitive, message) -> None:
    from gate import check_max_disparity

    with pytest.raises(DataError, match=message):
        check_max_disparity(bound, sensitive)
