"""The history across windows: each window's verdict from the history file, its values from its report.json, the
windows that counted toward the retrain rule marked, as a terminal table and as a self-contained page of charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mlops.monitoring.history import append_history
from mlops.monitoring.report import write_html, write_json
from mlops.monitoring.results import (
    ABOVE,
    BELOW,
    NOT_ENOUGH_DATA,
    FeatureResult,
    MetricResult,
    MonitorResult,
    SignalResult,
)
from mlops.monitoring.settings import MonitorConfig, RetrainRule, SignalConfig
from mlops.monitoring.trends import TOP_N, history_table, load_windows, render_history_html, write_history_page

WASSERSTEIN, NDCG = "normalized_wasserstein_distance", "normalized_discounted_cumulative_gain"
CONFIG = MonitorConfig(
    name="m",
    ml_task="classification",
    signals={
        "data_drift": SignalConfig("data_drift", "data_drift", True),
        "data_drift_tests": SignalConfig("data_drift_tests", "data_drift", False),
        "feature_attribution_drift": SignalConfig("feature_attribution_drift", "feature_attribution_drift", True),
    },
    retrain=RetrainRule(min_breached=2, last_runs=3, signals=("data_drift", "feature_attribution_drift")),
    warnings=(),
)
START = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)


def drift(values: dict[str, float]) -> SignalResult:
    features = [
        FeatureResult(name, "numerical", [MetricResult(WASSERSTEIN, value, 0.1, direction=ABOVE)])
        for name, value in values.items()
    ]
    return SignalResult("data_drift", "data_drift", True, features)


def attribution(value: float | None) -> SignalResult:
    if value is None:
        return SignalResult(
            "feature_attribution_drift", "feature_attribution_drift", True, status=NOT_ENOUGH_DATA, reason="3 rows"
        )
    metric = MetricResult(NDCG, value, 0.9, direction=BELOW)
    return SignalResult(
        "feature_attribution_drift", "feature_attribution_drift", True, [FeatureResult("r", None, [metric])]
    )


def alert_off_signal() -> SignalResult:
    """Alert off: never charted, never in the table."""
    metric = MetricResult("two_sample_kolmogorov_smirnov_test", 1e-9, 0.01, direction=BELOW)
    return SignalResult("data_drift_tests", "data_drift", False, [FeatureResult("bmi", "numerical", [metric])])


def record(root: Path, day: int, window: str, signals: list[SignalResult], retrain: bool) -> MonitorResult:
    """What `run_monitor` leaves behind for a window: its report files and a history line."""
    result = MonitorResult("m", window, START + timedelta(days=day), [*signals, alert_off_signal()])
    folder = root / "reports" / window / f"{day:03d}"
    folder.mkdir(parents=True)
    write_json(result, folder)
    write_html(result, folder)
    append_history(
        root / "history",
        {
            "timestamp": result.timestamp.isoformat(),
            "monitor": "m",
            "window": window,
            "breached": result.breached,
            "breached_signals": result.breached_signals,
            "evaluated_signals": [s.name for s in result.signals if s.evaluated],
            "retrain": retrain,
        },
    )
    return result


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """w1 ok; w2 bmi drifts; w3 too small for a retrain signal (not counted); w4 bmi again: 2 of 3, retrain;
    w2 run again last (it replaces its first run and moves to the end)."""
    record(tmp_path, 0, "w1", [drift({"age": 0.02, "bmi": 0.05}), attribution(0.97)], retrain=False)
    record(tmp_path, 1, "w2", [drift({"age": 0.03, "bmi": 0.4}), attribution(0.95)], retrain=False)
    record(
        tmp_path,
        2,
        "w3",
        [SignalResult("data_drift", "data_drift", True, status=NOT_ENOUGH_DATA), attribution(None)],
        False,
    )
    record(tmp_path, 3, "w4", [drift({"age": 0.04, "bmi": 0.7}), attribution(0.93)], retrain=True)
    record(tmp_path, 4, "w2", [drift({"age": 0.01, "bmi": 0.2}), attribution(0.96)], retrain=True)
    return tmp_path


def test_each_window_once_with_its_latest_run_and_what_it_counted(history: Path) -> None:
    records, total = load_windows(history / "history", CONFIG, history / "reports")
    assert total == 4
    assert [r.window for r in records] == ["w1", "w3", "w4", "w2"]
    assert [(r.counted, r.strike, r.retrain) for r in records] == [
        (True, False, False),
        (False, False, False),
        (True, True, True),
        (True, True, True),
    ]
    w2 = records[-1]
    assert w2.points[("data_drift", "bmi", WASSERSTEIN)].value == pytest.approx(0.2)  # the re-run's report
    assert ("data_drift_tests", "bmi", "two_sample_kolmogorov_smirnov_test") not in w2.points  # alert off
    assert records[1].status("data_drift") == NOT_ENOUGH_DATA
    assert records[1].status("feature_attribution_drift") == NOT_ENOUGH_DATA
    assert w2.report_html is not None and w2.report_html.parent.name == "004"
    assert [r.window for r in load_windows(history / "history", CONFIG, history / "reports", last=2)[0]] == [
        "w4",
        "w2",
    ]


def test_terminal_table_per_signal_and_the_retrain_count(history: Path) -> None:
    records, _ = load_windows(history / "history", CONFIG, history / "reports")
    lines = history_table(records, CONFIG)
    assert lines[0].split() == ["window", "data_drift*", "feature_attribution_drift*", "retrain", "rule", "retrain"]
    rows = {line.split()[0]: line.split() for line in lines[1:5]}
    assert rows["w1"] == ["w1", "ok", "ok", "counts:", "ok", "no"]
    assert rows["w3"] == ["w3", "not", "enough", "data", "not", "enough", "data", "not", "counted", "no"]
    assert rows["w4"] == ["w4", "BREACH", "ok", "counts:", "breach", "YES"]
    assert "2 of the last 3" in lines[-1]
    column = lines[0].index("retrain rule")  # columns aligned
    assert [line[column:].split()[0] for line in lines[1:5]] == ["counts:", "not", "counts:", "counts:"]


def test_without_reports_the_verdicts_remain(history: Path) -> None:
    records, _ = load_windows(history / "history", CONFIG, None)
    assert all(not r.points for r in records)
    assert [r.status("data_drift") for r in records] == ["ok", "-", "breach", "breach"]
    page = render_history_html(records, CONFIG, history)
    assert "verdicts only" in page and "<svg" not in page


class Elements(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def all(self, tag: str, css: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.found if t == tag and (css is None or css in a.get("class", "").split())]


def test_the_page_charts_each_breaching_metric_against_its_threshold(history: Path) -> None:
    page_path = write_history_page(history / "history", CONFIG, history / "reports")
    assert page_path == history / "history" / "history.html"
    page = Elements(page_path.read_text())
    charts = page.all("svg", "trend")
    # data_drift: only bmi ever breached; feature attribution never did: its closest (the only one) is shown
    assert [(c["data-chart-signal"], c["data-feature"], c["data-metric"]) for c in charts] == [
        ("data_drift", "bmi", WASSERSTEIN),
        ("feature_attribution_drift", "r", NDCG),
    ]
    assert len(page.all("line", "threshold")) == 3 * 2  # a segment per window with a value (not w3), per chart
    assert len(page.all("rect", "strike")) == 2 * 2  # w4 and w2, on each chart
    assert len(page.all("rect", "not-counted")) == 2  # w3
    assert len(page.all("text", "retrain")) == 2 * 2
    assert len(page.all("circle", "breach")) == 2  # bmi in w4 (0.7) and in w2 (0.2)
    assert len(page.all("circle")) == 3 + 3  # w3 has no value on either chart


def test_the_page_is_self_contained_and_links_each_window_report(history: Path) -> None:
    page_path = write_history_page(history / "history", CONFIG, history / "reports")
    text = page_path.read_text()
    page = Elements(text)
    assert not page.all("script") and not page.all("link") and not page.all("img")
    hrefs = [a["href"] for a in page.all("a")]
    assert len(hrefs) == 4
    for href in hrefs:
        assert not href.startswith(("http:", "https:", "//", "/")), href
        assert (page_path.parent / href).resolve().is_file(), href
    assert "http://" not in text and "https://" not in text


def test_top_n_closest_when_nothing_breached(tmp_path: Path) -> None:
    values = {f"f{i}": 0.01 * i for i in range(1, 7)}
    record(tmp_path, 0, "w1", [drift(values), attribution(0.97)], retrain=False)
    records, _ = load_windows(tmp_path / "history", CONFIG, tmp_path / "reports")
    page = Elements(render_history_html(records, CONFIG, tmp_path))
    drifted = [c["data-feature"] for c in page.all("svg", "trend") if c["data-chart-signal"] == "data_drift"]
    assert drifted == ["f6", "f5", "f4"][:TOP_N]
