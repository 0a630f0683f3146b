"""report.html reads summary first: a card per signal (status, breaching features named), then per signal one row per
feature, the furthest past its threshold first, the alerting metric shown and the others folded away, each breached
row linked to its plot; self-contained (no network URL). report.json keeps its format."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mlops.monitoring.metrics import CATEGORICAL, NUMERICAL, Distribution
from mlops.monitoring.report import past_threshold, render_html, write_json
from mlops.monitoring.results import (
    ABOVE,
    BELOW,
    DISTRIBUTIONS,
    NOT_ENOUGH_DATA,
    SKIPPED,
    FeatureResult,
    MetricResult,
    MonitorResult,
    SignalResult,
)

WASSERSTEIN, JS, KS = "normalized_wasserstein_distance", "jensen_shannon_distance", "two_sample_kolmogorov_smirnov_test"


def metric(name: str, value: float | None, threshold: float | None, direction: str = ABOVE, reason=None):
    return MetricResult(name, value, threshold, reason=reason, direction=direction)


def histogram() -> Distribution:
    return Distribution(NUMERICAL, ["0-1", "1-2"], [0.5, 0.5], [0.1, 0.9], edges=[0.0, 1.0, 2.0])


def drift_features(alerting: str) -> list[FeatureResult]:
    """Features listed out of severity order; `alerting` is the metric with a threshold (the others reported only)."""

    def row(name, wasserstein, ks, distribution=None):
        reason = "no non-null production values"
        metrics = [
            metric(JS, 0.02, None),
            metric(WASSERSTEIN, wasserstein, 0.1 if alerting == WASSERSTEIN else None, reason=reason),
            metric(KS, ks, 0.01 if alerting == KS else None, BELOW, reason=reason),
        ]
        notes = ["binned in 2 bins"] if name == "age" else []
        return FeatureResult(name, NUMERICAL, metrics, notes=notes, distribution=distribution)

    return [
        row("age", 0.05, 0.4),
        row("bmi", 0.3, 1e-9, histogram()),
        row("plasma glucose", 0.83, 1e-30, histogram()),
        row("insulin", None, None),
        row("pregnancies", 0.09, 0.02),
    ]


def sample_result() -> MonitorResult:
    drift = SignalResult("data_drift", "data_drift", True, drift_features(WASSERSTEIN), plot=DISTRIBUTIONS)
    tests = SignalResult("data_drift_tests", "data_drift", False, drift_features(KS), plot=DISTRIBUTIONS)
    quality = SignalResult(
        "data_quality",
        "data_quality",
        True,
        [
            FeatureResult(
                "sex",
                CATEGORICAL,
                [
                    metric("null_value_rate", 0.0, 0.05),
                    metric("data_type_error_rate", 0.02, 0.0),
                    metric("out_of_bounds_rate", 0.5, 0.01),
                ],
            ),
            FeatureResult("bmi", NUMERICAL, [metric("null_value_rate", 0.01, 0.05)]),
        ],
    )
    performance = SignalResult(
        "model_performance", "model_performance", True, status=NOT_ENOUGH_DATA, reason="12 rows, fewer than 30"
    )
    prediction = SignalResult("prediction_drift", "prediction_drift", True, status=SKIPPED, reason="no predictions")
    attribution = SignalResult(
        "feature_attribution_drift",
        "feature_attribution_drift",
        True,
        [FeatureResult("(ranking)", None, [metric("normalized_discounted_cumulative_gain", 0.95, 0.9, BELOW)])],
    )
    return MonitorResult(
        "m",
        "w1",
        datetime(2026, 11, 26, tzinfo=UTC),
        [drift, tests, prediction, quality, attribution, performance],
        warnings=["metric psi is not sent to Azure"],
    )


class Page(HTMLParser):
    """What the tests look at: elements with their attributes, text by element, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.texts: list[tuple[str, dict[str, str], str]] = []  # (tag, attrs, all text inside), closed order
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag not in {"img", "meta", "br", "input", "link"}:
            self.stack.append((tag, attributes, []))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, attributes, text = self.stack.pop()
            joined = "".join(text)
            if self.stack:
                self.stack[-1][2].append(joined)
            self.texts.append((open_tag, attributes, joined))
            if open_tag == tag:
                return

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)

    def by(self, **wanted: str) -> list[tuple[str, dict[str, str], str]]:
        found = [item for item in self.texts if all(item[1].get(k) == v for k, v in wanted.items())]
        order = {id(a): i for i, (_, a) in enumerate(self.elements)}
        return sorted(found, key=lambda item: order[id(item[1])])


@pytest.fixture(scope="module")
def page() -> Page:
    return Page(render_html(sample_result()))


def cards(page: Page) -> dict[str, dict[str, str]]:
    return {attrs["data-signal"]: attrs for tag, attrs in page.elements if "data-signal" in attrs}


def test_a_card_per_signal_before_any_table_with_its_status(page: Page) -> None:
    found = cards(page)
    assert list(found) == [
        "data_drift",
        "data_drift_tests",
        "prediction_drift",
        "data_quality",
        "feature_attribution_drift",
        "model_performance",
    ]
    assert {name: attrs["data-status"] for name, attrs in found.items()} == {
        "data_drift": "breach",
        "data_drift_tests": "breach",  # breached with its alert off: still a breach to see
        "prediction_drift": "not-enough-data",  # skipped: nothing to judge
        "data_quality": "breach",
        "feature_attribution_drift": "ok",
        "model_performance": "not-enough-data",
    }
    assert found["data_drift_tests"]["data-alert"] == "off"
    tags = [tag for tag, _ in page.elements]
    last_card = max(i for i, (_, attrs) in enumerate(page.elements) if "data-signal" in attrs)
    assert tags.index("table") > last_card


def test_the_breaching_features_are_named_in_the_card_worst_first(page: Page) -> None:
    card = next(item for item in page.by(**{"data-signal": "data_drift"}))
    breaching = [text for tag, attrs, text in page.texts if attrs.get("class") == "breaching"]
    assert breaching[0] == "plasma glucosebmi"  # two <li>: the browser shows them apart
    items = [text for tag, attrs, text in page.by() if tag == "li" and text in {"plasma glucose", "bmi"}]
    assert items[:2] == ["plasma glucose", "bmi"]
    assert "BREACH: 2 of 5" in card[2]
    assert "insulin" not in card[2] and "age" not in card[2]
    not_enough = next(item for item in page.by(**{"data-signal": "model_performance"}))
    assert "12 rows, fewer than 30" in not_enough[2]


def table_rows(page: Page, signal: str) -> list[tuple[str, dict[str, str], str]]:
    section = f"signal-{signal}"
    start = next(i for i, (_, a) in enumerate(page.elements) if a.get("id") == section)
    end = next((i for i, (t, a) in enumerate(page.elements) if i > start and t == "section"), len(page.elements))
    inside = {id(a) for _, a in page.elements[start:end]}
    return [item for item in page.by() if item[0] == "tr" and "data-feature" in item[1] and id(item[1]) in inside]


def test_rows_are_sorted_by_how_far_past_the_threshold(page: Page) -> None:
    rows = table_rows(page, "data_drift")
    # 0.83 and 0.3 breach (+730%, +200%); 0.09 and 0.05 are within (-10%, -50%); not computable last
    assert [attrs["data-feature"] for _, attrs, _ in rows] == ["plasma glucose", "bmi", "pregnancies", "age", "insulin"]
    tests = [attrs["data-feature"] for _, attrs, _ in table_rows(page, "data_drift_tests")]
    # p-values below 0.01 alert: the smallest first, then 0.02 (closer to the threshold) before 0.4
    assert tests == ["plasma glucose", "bmi", "pregnancies", "age", "insulin"]


def test_each_row_shows_its_alerting_metric_and_folds_the_others(page: Page) -> None:
    rows = {attrs["data-feature"]: text for _, attrs, text in table_rows(page, "data_drift")}
    assert rows["bmi"].startswith(f"bminumerical{WASSERSTEIN}0.30.1value > thresholdbreach+0.2 (+200%)plot")
    assert "2 more metrics" in rows["bmi"]
    assert "1 note" in rows["age"]
    assert "not computable: no non-null production values" in rows["insulin"]
    quality = {attrs["data-feature"]: text for _, attrs, text in table_rows(page, "data_quality")}
    # a wrong type over a zero threshold outranks a rate 49 times its threshold; the other breach stays counted
    assert quality["sex"].startswith("sexcategoricaldata_type_error_rate0.020value > thresholdbreach+0.02")
    assert "2 more metrics, 1 breached" in quality["sex"]
    folded = [text for tag, _, text in page.by() if tag == "summary"]
    assert folded and all("more metric" in t or "note" in t or "warning" in t for t in folded)
    details = [tag for tag, _ in page.elements].count("details")
    assert details == len(folded)


def test_row_links_resolve_to_plots_drawn_once(page: Page) -> None:
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    links = [attrs["href"][1:] for tag, attrs in page.elements if tag == "a" and attrs.get("href", "").startswith("#")]
    assert links and set(links) <= set(ids)
    plot_links = [link for link in links if link.startswith("plot-")]
    assert plot_links == ["plot-data_drift-plasma_glucose", "plot-data_drift-bmi"] * 2  # tests link to the same
    figures = [attrs["id"] for tag, attrs in page.elements if tag == "figure"]
    assert figures == ["plot-data_drift-plasma_glucose", "plot-data_drift-bmi"]
    assert [attrs["alt"] for tag, attrs in page.elements if tag == "img"] == ["plasma glucose", "bmi"]


def test_the_page_fetches_nothing_and_runs_no_script(page: Page) -> None:
    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags and "link" not in tags
    for _, attrs in page.elements:
        for name in ("src", "href"):
            value = attrs.get(name, "")
            assert not value.lower().startswith(("http:", "https:", "//")), value
            assert not value or value.startswith(("#", "data:image/png;base64,")), value
    styles = [text for tag, _, text in page.texts if tag == "style"]
    assert styles and not any("url(" in style or "@import" in style for style in styles)


def test_report_json_keeps_its_format(tmp_path: Path) -> None:
    result = sample_result()
    document = json.loads(write_json(result, tmp_path).read_text())
    assert list(document) == [
        "monitor",
        "window",
        "timestamp",
        "breached",
        "breached_signals",
        "retrain",
        "not_enough_data",
        "input",
        "warnings",
        "signals",
        "operational",
    ]
    assert document == json.loads(json.dumps(result.to_dict()))


@pytest.mark.parametrize(
    ("value", "threshold", "direction", "expected"),
    [
        (0.83, 0.1, ABOVE, 7.3),
        (0.05, 0.1, ABOVE, -0.5),
        (0.6, 0.7, BELOW, 0.1 / 0.7),
        (0.02, 0.0, ABOVE, math.inf),
        (0.0, 0.0, ABOVE, -math.inf),  # a zero rate against a zero threshold: nowhere near alerting
        (None, 0.1, ABOVE, None),
        (0.5, None, ABOVE, None),
    ],
)
def test_past_threshold(value, threshold, direction, expected) -> None:
    found = past_threshold(value, threshold, direction)
    assert found == (pytest.approx(expected) if isinstance(expected, float) and math.isfinite(expected) else expected)
