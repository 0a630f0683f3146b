"""Azure's early-termination rules on synthetic metric histories, with the expected cancellations worked by hand
(mlops.project.early_termination)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mlops.errors import MlopsError
from mlops.project.early_termination import Policy


def policy(kind, **settings):
    return Policy.of(SimpleNamespace(type=kind, **settings), "x.")


def test_bandit_with_azures_own_example() -> None:
    """Best 0.8 at the interval, slack_factor 0.2: anything below 0.8 / 1.2 = 0.667 is cancelled."""
    bandit = policy("bandit", slack_factor=0.2, evaluation_interval=1, delay_evaluation=0)
    histories = {1: [0.5, 0.8], 2: [0.4, 0.66], 3: [0.3, 0.67]}
    assert [t for t in histories if bandit.cancels(t, histories, "maximize")] == [2]


def test_bandit_slack_amount_and_minimize() -> None:
    bandit = policy("bandit", slack_amount=0.1, evaluation_interval=1)
    losses = {1: [0.5], 2: [0.59], 3: [0.61]}  # best 0.5: above 0.6 is cancelled
    assert [t for t in losses if bandit.cancels(t, losses, "minimize")] == [3]
    by_factor = policy("bandit", slack_factor=0.1, evaluation_interval=1)  # 0.5 * 1.1 = 0.55
    assert [t for t in losses if by_factor.cancels(t, losses, "minimize")] == [2, 3]


def test_a_trial_is_judged_at_its_latest_interval_against_the_trials_that_reached_it() -> None:
    bandit = policy("bandit", slack_factor=0.1, evaluation_interval=1)
    histories = {1: [0.9, 0.9, 0.9], 2: [0.1, 0.95]}  # trial 2 at interval 2: best of trials there is 0.95 (itself)
    assert not bandit.cancels(2, histories, "maximize")
    assert not bandit.cancels(1, histories, "maximize")  # at interval 3 only trial 1 has a value
    histories[2].append(0.2)  # trial 2 reaches 3: its best is 0.95, still within 10% of 0.9
    assert not bandit.cancels(2, histories, "maximize")


def test_delay_and_interval() -> None:
    every_other_after_four = policy("bandit", slack_factor=0.1, evaluation_interval=2, delay_evaluation=4)
    assert [k for k in range(1, 10) if every_other_after_four.applies_at(k)] == [4, 6, 8]
    assert [k for k in range(1, 4) if policy("bandit", slack_factor=0.1).applies_at(k)] == [1, 2, 3]  # 0 = each
    histories = {1: [0.9, 0.9, 0.9], 2: [0.1, 0.1, 0.1]}
    assert not every_other_after_four.cancels(2, histories, "maximize")  # interval 3: not evaluated
    histories = {1: [0.9] * 4, 2: [0.1] * 4}
    assert every_other_after_four.cancels(2, histories, "maximize")


def test_median_stopping() -> None:
    """Interval 3: running averages 0.6, 0.4, 0.2 (median 0.4); best values 0.9, 0.6, 0.3: only trial 3 is below."""
    median = policy("median_stopping", evaluation_interval=1, delay_evaluation=0)
    histories = {1: [0.3, 0.6, 0.9], 2: [0.2, 0.4, 0.6], 3: [0.1, 0.2, 0.3]}
    assert [t for t in histories if median.cancels(t, histories, "maximize")] == [3]
    losses = {1: [0.9, 0.6, 0.3], 2: [0.8, 0.8, 0.8]}  # minimize: averages 0.6, 0.8 (median 0.7); bests 0.3, 0.8
    assert [t for t in losses if median.cancels(t, losses, "minimize")] == [2]


def test_truncation_selection() -> None:
    """Five trials at interval 1, 40% truncated: the two worst (floor(5 * 0.4) = 2)."""
    truncation = policy("truncation_selection", truncation_percentage=40, evaluation_interval=1)
    histories = {1: [0.5], 2: [0.1], 3: [0.9], 4: [0.3], 5: [0.7]}
    assert [t for t in histories if truncation.cancels(t, histories, "maximize")] == [2, 4]
    assert [t for t in histories if truncation.cancels(t, histories, "minimize")] == [3, 5]
    two = {1: [0.5], 2: [0.1]}  # floor(2 * 0.4) = 0: nothing to cancel yet
    assert not any(truncation.cancels(t, two, "maximize") for t in two)


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("bandit", {}, "a bandit policy needs slack_factor or slack_amount > 0"),
        ("truncation_selection", {"truncation_percentage": 0}, r"truncation_percentage: expected 1 to 99"),
        ("hyperband", {}, r"early_termination\.type: hyperband; expected one of bandit"),
        ("median_stopping", {"evaluation_interval": -1}, "must be >= 0"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(kind, settings, message) -> None:
    with pytest.raises(MlopsError, match=message):
        policy(kind, **settings)
