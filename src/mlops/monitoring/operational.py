"""Operational metrics of an online endpoint: request count, 4xx and 5xx rates, latency percentiles, overall and per
deployment, from the `operational` collection the local scoring script writes (endpoints/scoring_common.py).

A record is one JSON line: `time` (ISO 8601, UTC), `deployment`, `status` (HTTP code), `latency_ms` (time spent in
the scoring script's run()), `rows` (null when the body was refused before its rows were read) and
`correlationid`. Lines that are not UTF-8, not JSON objects or lack a valid field are skipped and counted, as the
monitor does for model_inputs. Percentiles are numpy's `method="linear"` (Hyndman-Fan type 7, numpy's and pandas'
default) over the latencies of all requests, whatever their status. monitoring/README.md maps the fields to Azure's
App Insights `requests` table and AmlOnlineEndpointTrafficLog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlops.monitoring.collected import decode_line, jsonl_lines, refuse_malformed
from mlops.monitoring.results import ABOVE, InputLines, MalformedLine, breaches

COLLECTION = "operational"
COLUMNS = ("time", "deployment", "status", "latency_ms", "rows", "correlationid")
PERCENTILES = (50, 95, 99)
PERCENTILE_METHOD = "linear"
ALL = "(all)"
TABLE_HEADER = ("deployment", "requests", "4xx", "4xx rate", "5xx", "5xx rate", *(f"p{q} ms" for q in PERCENTILES))
WIDTHS = (14, 9, 7, 10, 6, 10, 10, 10, 10)  # text report: the first column left-aligned, the others right


@dataclass(frozen=True)
class OperationalLog:
    """The records read from some `operational/` folders, and the lines skipped."""

    folders: tuple[Path, ...]
    frame: pd.DataFrame
    lines: int
    malformed: tuple[MalformedLine, ...]
    files: int

    @property
    def input_lines(self) -> InputLines:
        return InputLines(self.lines, self.malformed)


def read_operational(folders: list[Path] | tuple[Path, ...]) -> OperationalLog:
    """Every `*.jsonl` under the folders, in path order; a missing folder or no record is an empty frame."""
    files = [file for folder in folders if folder.is_dir() for file in sorted(folder.rglob("*.jsonl"))]
    records: list[dict[str, Any]] = []
    malformed: list[MalformedLine] = []
    lines = 0
    for where, raw, torn in jsonl_lines(files):
        lines += 1
        record, problem = parse_record(raw, torn=torn)
        if problem is None:
            records.append(record)
        else:
            malformed.append(MalformedLine(where, problem))
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    return OperationalLog(tuple(folders), frame, lines, tuple(malformed), len(files))


def check_malformed(log: OperationalLog, max_share: float) -> None:
    """Refuse the records when more lines are malformed than the monitor tolerates (`collected.tolerated`)."""
    refuse_malformed(", ".join(str(folder) for folder in log.folders), log.lines, log.malformed, max_share)


def parse_record(raw: bytes, *, torn: bool = False) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a good line, (None, why) for a malformed one naming the field."""
    record, problem = decode_line(raw, torn=torn)
    if problem is not None:
        return None, problem
    if not isinstance(record, dict):
        return None, "not a JSON object"
    problem = _field_problem(record)
    if problem:
        return None, problem
    return {name: record.get(name) for name in COLUMNS}, None


def _field_problem(record: dict[str, Any]) -> str | None:
    when = record.get("time")
    if not isinstance(when, str):
        return "'time' must be an ISO 8601 UTC timestamp"
    try:
        parsed = datetime.fromisoformat(when)
    except ValueError:
        return f"'time' is not an ISO 8601 timestamp: {when[:40]!r}"
    if parsed.tzinfo is None or parsed.utcoffset().total_seconds() != 0:
        return f"'time' must be in UTC (Z or +00:00): {when[:40]!r}"
    if not isinstance(record.get("deployment"), str) or not record["deployment"]:
        return "'deployment' must be a non-empty string"
    status = record.get("status")
    if not _is_int(status) or not 100 <= status <= 599:
        return f"'status' must be an HTTP status code (100-599), got {str(status)[:40]}"
    latency = record.get("latency_ms")
    if not isinstance(latency, int | float) or isinstance(latency, bool) or not math.isfinite(latency) or latency < 0:
        return f"'latency_ms' must be a number >= 0, got {str(latency)[:40]}"
    rows = record.get("rows")
    if rows is not None and (not _is_int(rows) or rows < 0):
        return f"'rows' must be an integer >= 0 or null, got {str(rows)[:40]}"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------------------------
# Metrics: pure functions of a frame with the columns above


def percentile(latencies: np.ndarray, q: float) -> float | None:
    """The q-th percentile (numpy, method="linear"); None for no values."""
    if len(latencies) == 0:
        return None
    return float(np.percentile(latencies, q, method=PERCENTILE_METHOD))


def request_metrics(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts, rates (of all requests) and latency percentiles of one set of records; rates and latencies are None
    when there is no request."""
    status = frame["status"].to_numpy(dtype="int64")
    latencies = frame["latency_ms"].to_numpy(dtype="float64")
    requests = len(frame)
    counts = {
        "2xx": int(((status >= 200) & (status < 300)).sum()),
        "4xx": int(((status >= 400) & (status < 500)).sum()),
        "5xx": int((status >= 500).sum()),
    }
    counts["other"] = requests - sum(counts.values())

    def rate(count: int) -> float | None:
        return count / requests if requests else None

    rows = pd.to_numeric(frame["rows"], errors="coerce")
    return {
        "requests": requests,
        "status_counts": counts,
        "error_rate_4xx": rate(counts["4xx"]),
        "error_rate_5xx": rate(counts["5xx"]),
        "error_rate": rate(counts["4xx"] + counts["5xx"]),
        "latency_ms": {f"p{q}": percentile(latencies, q) for q in PERCENTILES}
        | {"mean": float(latencies.mean()) if requests else None, "max": float(latencies.max()) if requests else None},
        "rows_scored": int(rows[(status >= 200) & (status < 300)].sum()),
    }


def operational_metrics(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """`request_metrics` of all records (key "(all)") and of each deployment, in name order."""
    out = {ALL: request_metrics(frame)}
    for deployment, group in sorted(frame.groupby("deployment", sort=False), key=lambda item: str(item[0])):
        out[str(deployment)] = request_metrics(group)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Thresholds and the report


@dataclass(frozen=True)
class Thresholds:
    """Optional limits; a value above its limit breaches (never on an empty window)."""

    p95_latency_ms: float | None = None
    error_rate_4xx: float | None = None
    error_rate_5xx: float | None = None

    def check(self, metrics: dict[str, Any]) -> list[dict[str, Any]]:
        """The breached limits of one deployment's (or all) metrics."""
        found = []
        for name, value, limit in (
            ("p95_latency_ms", metrics["latency_ms"]["p95"], self.p95_latency_ms),
            ("error_rate_4xx", metrics["error_rate_4xx"], self.error_rate_4xx),
            ("error_rate_5xx", metrics["error_rate_5xx"], self.error_rate_5xx),
        ):
            if breaches(value, limit, ABOVE):
                found.append({"metric": name, "value": value, "threshold": limit})
        return found

    def to_dict(self) -> dict[str, float | None]:
        return {
            "p95_latency_ms": self.p95_latency_ms,
            "error_rate_4xx": self.error_rate_4xx,
            "error_rate_5xx": self.error_rate_5xx,
        }


@dataclass
class OperationalReport:
    """The operational section of a monitor window: metrics overall and per deployment, breaches, skipped lines."""

    log: OperationalLog
    thresholds: Thresholds = field(default_factory=Thresholds)
    metrics: dict[str, dict[str, Any]] = field(init=False)
    breaches: dict[str, list[dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = operational_metrics(self.log.frame)
        self.breaches = {name: found for name, m in self.metrics.items() if (found := self.thresholds.check(m))}

    @property
    def requests(self) -> int:
        return self.metrics[ALL]["requests"]

    @property
    def breached(self) -> bool:
        return bool(self.breaches)

    def period(self) -> tuple[str, str] | None:
        if not self.requests:
            return None
        times = pd.to_datetime(self.log.frame["time"], utc=True, format="ISO8601")
        return times.min().isoformat(), times.max().isoformat()

    def to_dict(self) -> dict[str, Any]:
        period = self.period()
        return {
            "requests": self.requests,
            "status": "no requests" if not self.requests else ("breached" if self.breached else "ok"),
            "first": period[0] if period else None,
            "last": period[1] if period else None,
            "percentile_method": f"numpy {PERCENTILE_METHOD} (type 7)",
            "overall": self.metrics[ALL],
            "deployments": {k: v for k, v in self.metrics.items() if k != ALL},
            "thresholds": self.thresholds.to_dict(),
            "breaches": self.breaches,
            "input": self.log.input_lines.to_dict(),
            "folders": [str(f) for f in self.log.folders],
        }

    def summary_lines(self) -> list[str]:
        """The text of the report: a head line, one row per deployment, breaches and skipped lines."""
        skipped = self.log.input_lines.summary()
        if not self.requests:
            where = ", ".join(str(f) for f in self.log.folders) or "no folder"
            lines = [f"Operations: no requests (no operational records in {where})"]
            return lines + ([f"  Input: {skipped}"] if skipped else [])
        first, last = self.period()
        verdict = "BREACHED" if self.breached else "ok"
        lines = [f"Operations: {self.requests} requests, {first} .. {last}: {verdict}"]
        for cells in (TABLE_HEADER, *self.table_rows()):
            rest = "".join(c.rjust(w) for c, w in zip(cells[1:], WIDTHS[1:], strict=True))
            lines.append("  " + cells[0].ljust(WIDTHS[0]) + rest)
        lines += [f"  {line}" for line in self.breach_lines()]
        if skipped:
            lines.append(f"  Input: {skipped}")
        return lines

    def html(self) -> str:
        """The report.html section (escaped)."""
        import html

        parts = ["<h2>Operations <small>(local endpoint)</small></h2>"]
        for line in self.summary_lines()[:1]:
            parts.append(f"<p>{html.escape(line.strip())}</p>")
        if not self.requests:
            return "\n".join(parts)
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in TABLE_HEADER) + "</tr>")
        for cells in self.table_rows():
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
        parts.extend(f"<p class='bad'>{html.escape(line)}</p>" for line in self.breach_lines())
        return "\n".join(parts)

    def table_rows(self) -> list[tuple[str, ...]]:
        """One row of formatted cells per deployment ("(all)" first), in TABLE_HEADER's order."""
        return [
            (
                name,
                str(m["requests"]),
                str(m["status_counts"]["4xx"]),
                _percent(m["error_rate_4xx"]),
                str(m["status_counts"]["5xx"]),
                _percent(m["error_rate_5xx"]),
                *(_ms(m["latency_ms"][f"p{q}"]) for q in PERCENTILES),
            )
            for name, m in self.metrics.items()
        ]

    def breach_lines(self) -> list[str]:
        return [
            f"BREACH {name}: {b['metric']} {_value(b['metric'], b['value'])} > {_value(b['metric'], b['threshold'])}"
            for name, found in self.breaches.items()
            for b in found
        ]


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _value(metric: str, value: float) -> str:
    return f"{value:.3g} ms" if metric.endswith("_ms") else f"{value * 100:.3g}%"
