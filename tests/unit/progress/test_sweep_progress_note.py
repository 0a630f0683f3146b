"""What a sweep's progress line says after its counts: the trials still running and the best metric so far."""

from __future__ import annotations

from types import SimpleNamespace

from mlops.project.sweep import Sweep
from mlops.targets.local.jobs import _RunContext


def sweep(goal: str) -> SimpleNamespace:
    """What `_sweep_note` reads of a Sweep, with the Sweep's own comparison."""
    fake = SimpleNamespace(primary_metric="validation_roc_auc", goal=goal)
    fake.better = lambda value, than: Sweep.better(fake, value, than)
    return fake


def test_the_best_metric_so_far_in_the_sweeps_direction_and_the_trials_still_running():
    trials = [{"metric": 0.81}, {"metric": None}, {"metric": 0.86}, {"metric": 0.79}]
    assert _RunContext._sweep_note(sweep("maximize"), trials, 2) == "2 running, best validation_roc_auc 0.86"
    assert _RunContext._sweep_note(sweep("minimize"), trials, 0) == "best validation_roc_auc 0.79"


def test_before_any_trial_logs_the_metric_the_line_says_so():
    assert _RunContext._sweep_note(sweep("maximize"), [{"metric": None}], 1) == "1 running, no validation_roc_auc yet"
