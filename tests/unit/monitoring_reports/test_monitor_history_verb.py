"""`mlops monitor history`: the table of the local monitor's windows and the path of the history page it rewrites;
a clear error and a non-zero exit without a history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlops.cli import build_parser, main
from mlops.cli.monitor_verbs import run_history, run_monitor
from mlops.monitoring.history import append_history
from mlops.monitoring.report import write_json
from mlops.monitoring.results import ABOVE, FeatureResult, MetricResult, MonitorResult, SignalResult

MONITOR = "diabetes_classifier_monitoring"  # monitoring/monitor.yml
MODEL = "diabetes-classifier"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return tmp_path


def window(state: Path, day: int, name: str, bmi: float) -> None:
    """A window as the local monitor leaves it: its report.json under the model's reports, a history line."""
    metric = MetricResult("normalized_wasserstein_distance", bmi, 0.1, direction=ABOVE)
    drift = SignalResult("data_drift", "data_drift", True, [FeatureResult("bmi", "numerical", [metric])])
    result = MonitorResult(MONITOR, name, datetime(2026, 11, 20, tzinfo=UTC) + timedelta(days=day), [drift])
    folder = state / "monitoring" / MODEL / name / f"t{day}"
    folder.mkdir(parents=True)
    write_json(result, folder)
    append_history(
        state / "monitoring" / "history" / MODEL,
        {
            "timestamp": result.timestamp.isoformat(),
            "monitor": MONITOR,
            "window": name,
            "breached": result.breached,
            "breached_signals": result.breached_signals,
            "evaluated_signals": ["data_drift"],
            "retrain": False,
        },
    )


def test_the_verb_parses_beside_the_monitor_run() -> None:
    parser = build_parser()
    assert parser.parse_args(["monitor"]).func is run_monitor
    args = parser.parse_args(["monitor", "history", "--model", MODEL, "--last", "5"])
    assert (args.func, args.model, args.last) == (run_history, MODEL, 5)
    with pytest.raises(SystemExit):
        parser.parse_args(["monitor", "history", "--last", "0"])


def test_prints_a_row_per_window_and_the_page(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    window(state, 0, "w1", 0.03)
    window(state, 1, "w2", 0.4)
    window(state, 2, "w3", 0.05)
    assert main(["monitor", "history", "--last", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Monitor {MONITOR}: the latest 2 of 3 window(s), oldest first"
    rows = {line.split()[0]: line.split() for line in out[2:4]}
    assert list(rows) == ["w2", "w3"]
    assert rows["w2"][1] == "BREACH" and rows["w3"][1] == "ok"
    page = state / "monitoring" / "history" / MODEL / "history.html"
    assert out[-1] == f"Monitor history: {page}"
    assert "data-chart-signal='data_drift'" in page.read_text()


def test_no_history_is_a_clear_error(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "history"]) == 2
    error = capsys.readouterr().err
    assert f"no monitoring history yet for {MONITOR}" in error and "monitor_history.jsonl" in error
    assert not (state / "monitoring" / "history" / MODEL / "history.html").exists()


def test_azure_points_to_the_studio(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "history", "--target", "azure"]) == 2
    assert "Azure ML studio" in capsys.readouterr().err
