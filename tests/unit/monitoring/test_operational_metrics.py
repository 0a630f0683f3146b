"""Operational metrics of the local endpoint (mlops.monitoring.operational) on a collected fixture with known
latencies and errors: counts and rates exact, percentiles as numpy's linear method (type 7) gives them by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.operational import (
    ALL,
    COLUMNS,
    OperationalReport,
    Thresholds,
    check_malformed,
    operational_metrics,
    parse_record,
    percentile,
    read_operational,
    request_metrics,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "operational" / "collected" / "operational"


@pytest.fixture(scope="module")
def log():
    return read_operational([FIXTURE])


def test_the_fixture_is_read_with_its_malformed_lines_skipped_and_counted(log):
    assert len(log.frame) == 14 and log.lines == 17 and log.files == 2
    reasons = [m.reason for m in log.malformed]
    assert len(reasons) == 3
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1].startswith("'status' must be an HTTP status code")
    assert "cut off while being written" in reasons[2]
    assert log.malformed[1].where.endswith("10/data.jsonl:7")


def test_counts_and_rates_overall_and_per_deployment_are_exact(log):
    metrics = operational_metrics(log.frame)
    assert list(metrics) == [ALL, "blue", "green"]
    overall, blue, green = metrics[ALL], metrics["blue"], metrics["green"]
    assert overall["requests"] == 14
    assert overall["status_counts"] == {"2xx": 11, "4xx": 2, "5xx": 1, "other": 0}
    assert overall["error_rate_4xx"] == 2 / 14 and overall["error_rate_5xx"] == 1 / 14
    assert overall["error_rate"] == 3 / 14
    assert overall["rows_scored"] == 8 * 5 + 3 * 3  # rows of answered (2xx) requests only
    assert (blue["requests"], blue["error_rate_4xx"], blue["error_rate_5xx"]) == (10, 0.1, 0.1)
    assert (green["requests"], green["error_rate_4xx"], green["error_rate_5xx"]) == (4, 0.25, 0.0)


def test_latency_percentiles_are_numpy_linear_by_hand(log):
    metrics = operational_metrics(log.frame)
    # linear (type 7): position (n - 1) * q / 100, interpolated between the two sorted values around it
    assert metrics["blue"]["latency_ms"] == pytest.approx(
        {"p50": 55.0, "p95": 95.5, "p99": 99.1, "mean": 55.0, "max": 100.0}
    )
    assert metrics["green"]["latency_ms"] == pytest.approx(
        {"p50": 20.0, "p95": 33.5, "p99": 34.7, "mean": 20.0, "max": 35.0}
    )
    # all 14: 5 10 15 20 25 30 35 40 50 60 70 80 90 100
    assert metrics[ALL]["latency_ms"] == pytest.approx(
        {"p50": 37.5, "p95": 93.5, "p99": 98.7, "mean": 630 / 14, "max": 100.0}
    )
    values = log.frame["latency_ms"].to_numpy(dtype=float)
    assert metrics[ALL]["latency_ms"]["p95"] == pytest.approx(np.percentile(values, 95))  # numpy's default method


def test_an_empty_window_says_no_requests_and_never_breaches(tmp_path):
    empty = read_operational([tmp_path / "missing"])
    report = OperationalReport(empty, Thresholds(p95_latency_ms=0, error_rate_4xx=0, error_rate_5xx=0))
    assert report.requests == 0 and not report.breached
    assert report.summary_lines()[0].startswith("Operations: no requests")
    data = report.to_dict()
    assert data["status"] == "no requests" and data["overall"]["latency_ms"]["p95"] is None
    assert data["overall"]["error_rate_4xx"] is None
    json.dumps(data, allow_nan=False)
    assert percentile(np.array([]), 95) is None
    assert "no requests" in report.html()


def test_thresholds_breach_above_their_value_overall_and_per_deployment(log):
    report = OperationalReport(log, Thresholds(p95_latency_ms=90, error_rate_5xx=0.08))
    assert report.breached
    assert {name: [b["metric"] for b in found] for name, found in report.breaches.items()} == {
        ALL: ["p95_latency_ms"],
        "blue": ["p95_latency_ms", "error_rate_5xx"],
    }
    text = "\n".join(report.summary_lines())
    assert "BREACH blue: error_rate_5xx 10% > 8%" in text
    assert "skipped 3 malformed lines (of 17)" in text
    # equal to the threshold does not breach (the monitor's rule)
    assert not OperationalReport(log, Thresholds(p95_latency_ms=95.5, error_rate_4xx=0.25)).breached


def test_report_dict_and_text(log):
    report = OperationalReport(log)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert (data["requests"], data["status"]) == (14, "ok")
    assert (data["first"], data["last"]) == ("2026-11-26T10:00:00+00:00", "2026-11-26T11:03:00+00:00")
    assert set(data["deployments"]) == {"blue", "green"}
    assert data["input"]["malformed_lines"] == 3
    lines = report.summary_lines()
    assert lines[0].startswith("Operations: 14 requests") and lines[0].endswith(": ok")
    assert lines[2].split() == ["(all)", "14", "2", "14.3%", "1", "7.1%", "37.5", "93.5", "98.7"]


def test_malformed_lines_past_the_monitors_share_are_refused_naming_the_first(log):
    with pytest.raises(MonitorInputError, match=r"3 of 17 lines malformed, more than the 1 tolerated.*data.jsonl:4"):
        check_malformed(log, 0.01)
    check_malformed(log, 0.2)  # 3 of 17 tolerated


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"deployment": "blue", "status": 200, "latency_ms": 1}', "'time' must be"),
        (b'{"time": "yesterday", "deployment": "b", "status": 200, "latency_ms": 1}', "'time' is not an ISO 8601"),
        (b'{"time": "2026-11-26T10:00:00", "deployment": "b", "status": 200, "latency_ms": 1}', "must be in UTC"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "", "status": 200, "latency_ms": 1}', "'deployment'"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": 99, "latency_ms": 1}', "'status'"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": true, "latency_ms": 1}', "'status'"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": 200, "latency_ms": -1}', "'latency_ms'"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": 200, "latency_ms": NaN}', "'latency_ms'"),
        (b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": 200, "latency_ms": 1, "rows": 1.5}', "'rows'"),
    ],
)
def test_a_malformed_record_names_its_field(line, problem):
    record, why = parse_record(line)
    assert record is None and problem in why


def test_a_good_record_keeps_only_the_known_fields():
    line = b'{"time": "2026-11-26T10:00:00Z", "deployment": "b", "status": 200, "latency_ms": 1, "extra": [1]}'
    record, why = parse_record(line)
    assert why is None and list(record) == list(COLUMNS) and record["rows"] is None


def test_request_metrics_is_pure_over_a_frame():
    frame = pd.DataFrame(
        {
            "time": ["2026-11-26T10:00:00Z"] * 4,
            "deployment": ["a"] * 4,
            "status": [200, 302, 404, 503],
            "latency_ms": [1.0, 2.0, 3.0, 4.0],
            "rows": [1, None, None, 2],
            "correlationid": ["x"] * 4,
        }
    )
    before = frame.copy()
    metrics = request_metrics(frame)
    assert metrics["status_counts"] == {"2xx": 1, "4xx": 1, "5xx": 1, "other": 1}
    assert metrics["latency_ms"]["p50"] == 2.5 and metrics["rows_scored"] == 1
    pd.testing.assert_frame_equal(frame, before)
