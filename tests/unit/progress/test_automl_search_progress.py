"""The local AutoML step's progress lines, read from FLAML's training log while the search runs."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops.project import automl

RUNNER = Path(automl.__file__).parent / "automl_step"
SHARED = Path(__file__).resolve().parents[3] / "components" / "shared"
sys.path[:0] = [str(RUNNER), str(SHARED)]

import automl_train  # noqa: E402  (the runner's code folder, as the step imports it)

ARGS = SimpleNamespace(max_trials=20, timeout_minutes=15, primary_metric="AUC_weighted")


def record(learner: str, loss: float, auc: float) -> str:
    return json.dumps(
        {"record_id": 0, "learner": learner, "validation_loss": loss, "logged_metric": {"AUC_weighted": auc}}
    )


def test_the_line_counts_trials_and_names_the_best_by_validation_loss():
    records = [json.loads(record("lgbm", -0.81, 0.81)), json.loads(record("rf", -0.83, 0.83))]
    assert automl_train.progress_line(records, ARGS, 41.2) == (
        "automl_local: 2/20 trials, 41 s of the 15 min budget, best rf AUC_weighted 0.8300"
    )
    assert automl_train.progress_line([], ARGS, 3) == "automl_local: 0/20 trials, 3 s of the 15 min budget"


def test_a_line_flaml_is_still_writing_is_not_read(tmp_path: Path):
    log = tmp_path / "trials.jsonl"
    log.write_text(record("lgbm", -0.8, 0.8) + "\n" + record("rf", -0.9, 0.9)[:30])
    assert [r["learner"] for r in automl_train.trials(log)] == ["lgbm"]


def test_the_reporter_prints_a_line_per_interval_until_stopped(tmp_path: Path, capsys):
    log = tmp_path / "trials.jsonl"
    log.write_text(record("lgbm", -0.8, 0.8) + "\n")
    waits: list[float] = []

    class ThreeIntervals(threading.Event):  # the search "runs" three intervals, then stops
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            return len(waits) > 3

    automl_train.report_progress(log, ARGS, ThreeIntervals(), 10.0, clock=iter([0.0, 10.0, 20.0, 30.0]).__next__)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"automl_local: 1/20 trials, {s} s of the 15 min budget, best lgbm AUC_weighted 0.8000"
                       for s in (10, 20, 30)]  # fmt: skip
    assert waits == [10.0] * 4


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("MLOPS_PROGRESS_INTERVAL", raising=False)
    assert automl_train.progress_interval() == automl_train.PROGRESS_INTERVAL_S
    monkeypatch.setenv("MLOPS_PROGRESS_INTERVAL", "3")
    assert automl_train.progress_interval() == 3.0
    monkeypatch.setenv("MLOPS_PROGRESS_INTERVAL", "often")
    with pytest.raises(automl_train.DataError, match="MLOPS_PROGRESS_INTERVAL: expected a number of seconds"):
        automl_train.progress_interval()


def test_the_step_reads_the_engines_progress_interval_by_the_same_name_and_default():
    """The runner cannot import the mlops package (only its code folder is uploaded), so it repeats the variable's
    name and default; they must stay the engine's."""
    from mlops import progress

    assert (automl_train.PROGRESS_INTERVAL_ENV, automl_train.PROGRESS_INTERVAL_S) == (
        progress.INTERVAL_ENV,
        progress.DEFAULT_INTERVAL_S,
    )
