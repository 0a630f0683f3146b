"""The monitor's history across windows: a page (history.html, next to the history file) with one small chart per
alerting metric (its value per window against its threshold, the windows that counted toward the retrain rule
marked) and the same verdicts as a terminal table (`mlops monitor history`).

The history file holds each run's verdict (breached and evaluated signals, the retrain decision); the values come
from the runs' report.json files, found under a reports folder and matched by monitor, window and timestamp. A
window run again counts once, with its latest run (as the retrain rule counts it). Self-contained: inline SVG and
CSS, no script, no network.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.monitoring.history import history_path, read_history, retrain_flags
from mlops.monitoring.report import REPORT_HTML, REPORT_JSON, past_threshold
from mlops.monitoring.results import BELOW, COMPUTED
from mlops.monitoring.settings import MonitorConfig

HISTORY_PAGE = "history.html"
# the page charts the latest windows only (a year of daily windows would not fit a chart)
MAX_PAGE_WINDOWS = 60
# per signal: every metric that breached in a shown window (at most this many, the furthest first); when none did,
# the TOP_N closest to their thresholds
MAX_CHARTS_PER_SIGNAL = 8
TOP_N = 3

BREACH, OK, NOT_JUDGED = "breach", "ok", "-"


@dataclass(frozen=True)
class Point:
    """One metric of one feature in one window."""

    value: float | None
    threshold: float | None
    direction: str | None
    breached: bool


@dataclass
class WindowRecord:
    """A window of the history: its latest run's history line and, when found, the values of that run's report."""

    entry: dict[str, Any]
    # (signal, feature, metric) -> point, for the metrics with a threshold; empty without a report
    points: dict[tuple[str, str, str], Point]
    # signal -> computed / not enough data / skipped, from the report; empty without one
    statuses: dict[str, str]
    report_html: Path | None
    counted: bool  # a retrain signal was judged on this window: it counts toward the M-of-N rule
    strike: bool  # counted, and a retrain signal breached: one of the M

    @property
    def window(self) -> str:
        return str(self.entry.get("window"))

    @property
    def retrain(self) -> bool:
        return bool(self.entry.get("retrain"))

    def status(self, signal: str) -> str:
        """breach, ok, not enough data, skipped, or "-" (not judged; the report that would say why is missing)."""
        if signal in (self.entry.get("breached_signals") or {}):
            return BREACH
        if signal in self.statuses:
            return OK if self.statuses[signal] == COMPUTED else self.statuses[signal]
        evaluated = self.entry.get("evaluated_signals")
        return OK if evaluated is None or signal in evaluated else NOT_JUDGED


# what the index keeps of a report.json: the points, each signal's status, the report.html next to it
_Values = tuple[dict[tuple[str, str, str], Point], dict[str, str], Path | None]
_NONE: _Values = ({}, {}, None)


def load_windows(
    history_dir: Path | str, config: MonitorConfig, reports_root: Path | None, *, last: int | None = None
) -> tuple[list[WindowRecord], int]:
    """The monitor's windows, oldest first, each with its latest run (the retrain rule counts a re-run once), and
    how many windows the history holds; with `last`, only the latest `last` windows."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in read_history(history_dir, config.name):
        window = str(entry.get("window"))
        latest.pop(window, None)  # a re-run moves the window to where its latest run is
        latest[window] = entry
    entries = list(latest.values())[-last:] if last else list(latest.values())
    reports = _index_reports(reports_root, config.name, {str(e.get("window")) for e in entries}) if reports_root else {}
    records = []
    for entry in entries:
        points, statuses, report_html = reports.get((str(entry.get("window")), str(entry.get("timestamp"))), _NONE)
        flags = retrain_flags([entry], config.retrain.signals)
        records.append(WindowRecord(entry, points, statuses, report_html, counted=bool(flags), strike=flags == [True]))
    return records, len(latest)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A report.json, or None when it is not one (a torn or foreign file is a missing report, not an error)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _index_reports(root: Path, monitor: str, windows: set[str]) -> dict[tuple[str, str], _Values]:
    """(window, timestamp) -> the values, statuses and report.html of `monitor`'s report.json files under `root`,
    for the given windows."""
    found = {}
    for path in sorted(root.rglob(REPORT_JSON)):
        report = _read_json(path)
        if not report or report.get("monitor") != monitor or report.get("window") not in windows:
            continue
        statuses = {str(s.get("name")): str(s.get("status")) for s in report.get("signals") or []}
        html_file = path.with_name(REPORT_HTML)
        found[(str(report["window"]), str(report.get("timestamp")))] = (
            _points(report),
            statuses,
            html_file if html_file.is_file() else None,
        )
    return found


def _number(value: Any) -> float | None:
    """A report value as a float (report.json writes infinities as "inf"/"-inf"), None when not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _points(report: dict[str, Any]) -> dict[tuple[str, str, str], Point]:
    """The report's metrics with a threshold, in signals with alerts on."""
    points = {}
    for signal in report.get("signals") or []:
        if not signal.get("alert_enabled"):
            continue
        for feature in signal.get("features") or []:
            for metric in feature.get("metrics") or []:
                if metric.get("threshold") is None:
                    continue
                key = (str(signal.get("name")), str(feature.get("feature")), str(metric.get("metric")))
                points[key] = Point(
                    _number(metric.get("value")),
                    _number(metric.get("threshold")),
                    metric.get("direction"),
                    bool(metric.get("breached")),
                )
    return points


def alerting_signals(config: MonitorConfig) -> list[str]:
    """The signals with alerts on, in the order of the YAML: the ones the table and the charts show."""
    return [name for name, signal in config.signals.items() if signal.alert_enabled]


# ---------------------------------------------------------------------------------------------------------------
# Terminal


def history_table(records: Sequence[WindowRecord], config: MonitorConfig) -> list[str]:
    """One line per window: per alerting signal its verdict, whether the window counts toward the retrain rule (as
    a breach or not), and the monitor's retrain decision then."""
    rule = config.retrain
    signals = alerting_signals(config)
    header = ["window", *(f"{name}*" if name in rule.signals else name for name in signals), "retrain rule", "retrain"]
    rows = [
        [
            r.window,
            *(r.status(name).upper() if r.status(name) == BREACH else r.status(name) for name in signals),
            _counts_text(r),
            "YES" if r.retrain else "no",
        ]
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    title = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()
    return [title, *lines, "* a retrain signal", f"Retrain rule: {rule_text(config)}"]


def _counts_text(record: WindowRecord) -> str:
    if not record.counted:
        return "not counted"
    return "counts: breach" if record.strike else "counts: ok"


def rule_text(config: MonitorConfig) -> str:
    rule = config.retrain
    return (
        f"retrain when at least {rule.min_breached} of the last {rule.last_runs} counted windows breached one of "
        f"{', '.join(rule.signals)} and the latest did; a window where none of them had enough data is not counted"
    )


# ---------------------------------------------------------------------------------------------------------------
# Page

STYLE = (
    "body{font-family:sans-serif;margin:1.5em 2em;max-width:1200px;color:#222}h1{font-size:1.5em;margin:0 0 .2em}"
    "h2{font-size:1.2em;margin:1.2em 0 .2em}p{margin:.3em 0}.charts{display:flex;flex-wrap:wrap;gap:8px}"
    "figure.trend{margin:0;border:1px solid #ddd;border-radius:4px;padding:4px}figcaption{font-size:12px}"
    "svg text{font-family:sans-serif;font-size:9px;fill:#444}.legend span{display:inline-block;width:12px;"
    "height:12px;vertical-align:middle;margin:0 4px 0 10px;border:1px solid #ccc}table{border-collapse:collapse;"
    "margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px;text-align:left}"
    "td.breach{background:#f8d0d0}td.ok{background:#d8f0d8}td.na{color:#777}"
)
WIDTH, HEIGHT = 330, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 46
STRIKE_FILL, NOT_COUNTED_FILL = "#fbdada", "#eeeeee"


def render_history_html(
    records: Sequence[WindowRecord], config: MonitorConfig, page_dir: Path, *, total_windows: int | None = None
) -> str:
    """The history page for `records` (oldest first); report links are relative to `page_dir`."""
    name = html.escape(config.name)
    shown = f" (the latest of {total_windows})" if total_windows and total_windows > len(records) else ""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Monitor history — {name}</title><style>{STYLE}</style></head><body>",
        f"<h1>Monitor history: {name}</h1>",
        f"<p>{len(records)} window(s){shown}, oldest first. Retrain rule: {html.escape(rule_text(config))}.</p>",
    ]
    if records:
        latest = records[-1]
        parts.append(
            f"<p class='latest' data-retrain='{'yes' if latest.retrain else 'no'}'>Latest window <b>"
            f"{html.escape(latest.window)}</b>: {_counts_text(latest)}; retrain "
            f"<b>{'YES' if latest.retrain else 'no'}</b>.</p>"
        )
    parts.append(
        f"<p class='legend'>Window background:<span style='background:{STRIKE_FILL}'></span>breached a retrain "
        f"signal (counts toward the rule as a breach)<span style='background:{NOT_COUNTED_FILL}'></span>not "
        "counted (no retrain signal had enough data) — white: counted, no breach. <b style='color:#b00'>R</b>: "
        "the monitor decided to retrain. Dashed line: the threshold; red points breached it.</p>"
    )
    if not any(r.points for r in records):
        parts.append("<p class='na'>No report.json of these windows was found: verdicts only, no values to plot.</p>")
    for signal in alerting_signals(config):
        parts.extend(_signal_charts(signal, records, config))
    parts.append(_window_table(records, config, page_dir))
    parts.append("</body></html>")
    return "\n".join(parts)


def _signal_charts(signal: str, records: Sequence[WindowRecord], config: MonitorConfig) -> list[str]:
    series: dict[tuple[str, str], list[Point | None]] = {}
    for index, record in enumerate(records):
        for (name, feature, metric), point in record.points.items():
            if name == signal:
                series.setdefault((feature, metric), [None] * len(records))[index] = point
    role = "a retrain signal" if signal in config.retrain.signals else "not a retrain signal"
    parts = [f"<h2 id='trend-{html.escape(signal)}'>{html.escape(signal)} <small>({role})</small></h2>"]
    if not series:
        return [*parts, "<p class='na'>no values in the reports of these windows</p>"]

    def furthest(key: tuple[str, str]) -> float:
        excesses = [past_threshold(p.value, p.threshold, p.direction) for p in series[key] if p]
        return max((e for e in excesses if e is not None), default=-math.inf)

    breached = [key for key, points in series.items() if any(p and p.breached for p in points)]
    if breached:
        chosen = sorted(breached, key=furthest, reverse=True)[:MAX_CHARTS_PER_SIGNAL]
        more = f" (the {len(chosen)} furthest past of {len(breached)})" if len(breached) > len(chosen) else ""
        caption = f"The metrics that breached in at least one window{more}."
    else:
        chosen = sorted(series, key=furthest, reverse=True)[:TOP_N]
        caption = f"No metric breached in these windows: the {len(chosen)} closest to their threshold."
    parts.append(f"<p>{caption}</p><div class='charts'>")
    parts.extend(_chart(signal, feature, metric, series[(feature, metric)], records) for feature, metric in chosen)
    parts.append("</div>")
    return parts


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _chart(signal: str, feature: str, metric: str, points: list[Point | None], records: Sequence[WindowRecord]) -> str:
    """An inline SVG: the metric per window (a point each), its threshold dashed, the retrain marks behind."""
    count = len(records)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / count
    direction = next((p.direction for p in points if p and p.direction), None)
    numbers = [v for p in points if p for v in (p.value, p.threshold) if v is not None and math.isfinite(v)]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if direction != BELOW and low > 0:
        low = 0.0
    span = (high - low) or abs(high) or 1.0
    low, high = (low - 0.05 * span if low != 0 else low), high + 0.1 * span

    def y(value: float) -> float:
        return TOP + plot_height * (high - value) / (high - low)

    def x(index: int) -> float:
        return LEFT + step * (index + 0.5)

    label = f"{signal} · {feature} · {metric}"
    alert_if = "value &lt; threshold" if direction == BELOW else "value &gt; threshold"
    out = [
        f"<figure class='trend'><figcaption><b>{html.escape(feature)}</b> {html.escape(metric)} <small>(alerts "
        f"when {alert_if})</small></figcaption>",
        f"<svg class='trend' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"data-chart-signal='{html.escape(signal)}' data-feature='{html.escape(feature)}' "
        f"data-metric='{html.escape(metric)}'><title>{html.escape(label)} per window</title>",
    ]
    for index, record in enumerate(records):
        band = STRIKE_FILL if record.strike else (None if record.counted else NOT_COUNTED_FILL)
        what = _counts_text(record) + ("; retrain decided" if record.retrain else "")
        if band:
            out.append(
                f"<rect class='{'strike' if record.strike else 'not-counted'}' x='{LEFT + step * index:.1f}' "
                f"y='{TOP}' width='{step:.1f}' height='{plot_height}' fill='{band}'>"
                f"<title>{html.escape(record.window)}: {what}</title></rect>"
            )
        if record.retrain:
            out.append(
                f"<text class='retrain' x='{x(index):.1f}' y='{TOP - 4}' text-anchor='middle' fill='#b00' "
                f"style='fill:#b00;font-weight:bold'>R<title>{html.escape(record.window)}: retrain decided</title>"
                "</text>"
            )
    out.append(
        f"<line x1='{LEFT}' y1='{TOP + plot_height}' x2='{WIDTH - RIGHT}' y2='{TOP + plot_height}' stroke='#999'/>"
        f"<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{TOP + plot_height}' stroke='#999'/>"
        f"<text x='{LEFT - 3}' y='{TOP + 3}' text-anchor='end'>{_fmt(high)}</text>"
        f"<text x='{LEFT - 3}' y='{TOP + plot_height}' text-anchor='end'>{_fmt(low)}</text>"
    )
    for index, point in enumerate(points):  # the threshold, per window (it may have changed between runs)
        if point and point.threshold is not None and math.isfinite(point.threshold):
            level = y(point.threshold)
            out.append(
                f"<line class='threshold' x1='{LEFT + step * index:.1f}' y1='{level:.1f}' "
                f"x2='{LEFT + step * (index + 1):.1f}' y2='{level:.1f}' stroke='#d33' stroke-dasharray='4 3'/>"
            )
    last_threshold = next((p.threshold for p in reversed(points) if p and p.threshold is not None), None)
    if last_threshold is not None and math.isfinite(last_threshold):
        out.append(
            f"<text x='{WIDTH - RIGHT}' y='{y(last_threshold) - 3:.1f}' text-anchor='end' style='fill:#d33'>"
            f"threshold {_fmt(last_threshold)}</text>"
        )
    segment: list[str] = []
    segments = []
    for index, point in enumerate(points):
        if point and point.value is not None and math.isfinite(point.value):
            segment.append(f"{x(index):.1f},{y(point.value):.1f}")
        elif segment:
            segments.append(segment)
            segment = []
    segments.append(segment)
    out.extend(
        f"<polyline points='{' '.join(s)}' fill='none' stroke='#36c' stroke-width='1.5'/>" for s in segments if s
    )
    for index, point in enumerate(points):
        if point and point.value is not None and math.isfinite(point.value):
            colour = "#d33" if point.breached else "#36c"
            out.append(
                f"<circle class='{'breach' if point.breached else 'ok'}' cx='{x(index):.1f}' "
                f"cy='{y(point.value):.1f}' r='3.5' fill='{colour}'><title>{html.escape(records[index].window)}: "
                f"{_fmt(point.value)} (threshold {_fmt(point.threshold) if point.threshold is not None else '-'})"
                "</title></circle>"
            )
    every = max(1, math.ceil(count / 10))
    for index, record in enumerate(records):
        if index % every and index != count - 1:
            continue
        name = record.window if len(record.window) <= 14 else f"{record.window[:5]}…{record.window[-8:]}"
        out.append(
            f"<text x='{x(index):.1f}' y='{TOP + plot_height + 10}' text-anchor='end' "
            f"transform='rotate(-30 {x(index):.1f} {TOP + plot_height + 10})'>{html.escape(name)}</text>"
        )
    out.append("</svg></figure>")
    return "".join(out)


def _window_table(records: Sequence[WindowRecord], config: MonitorConfig, page_dir: Path) -> str:
    signals = alerting_signals(config)
    head = "".join(f"<th>{html.escape(name)}{'*' if name in config.retrain.signals else ''}</th>" for name in signals)
    rows = []
    for record in reversed(records):  # the latest first
        cells = []
        for name in signals:
            status = record.status(name)
            css = "breach" if status == BREACH else ("ok" if status == OK else "na")
            cells.append(f"<td class='{css}'>{html.escape(status)}</td>")
        link = (
            f"<a href='{html.escape(Path(os.path.relpath(record.report_html, page_dir)).as_posix())}'>report</a>"
            if record.report_html
            else ""
        )
        rows.append(
            f"<tr><td>{html.escape(record.window)}</td><td>{html.escape(str(record.entry.get('timestamp', '')))}"
            f"</td>{''.join(cells)}<td>{_counts_text(record)}</td><td>{'YES' if record.retrain else 'no'}</td>"
            f"<td>{link}</td></tr>"
        )
    return (
        "<h2 id='windows'>Windows <small>(latest first; * a retrain signal)</small></h2><table><tr><th>window</th>"
        f"<th>time</th>{head}<th>retrain rule</th><th>retrain</th><th>report</th></tr>{''.join(rows)}</table>"
    )


def write_history_page(history_dir: Path | str, config: MonitorConfig, reports_root: Path | None) -> Path:
    """Write history.html next to the history file from the latest MAX_PAGE_WINDOWS windows; returns its path."""
    records, total = load_windows(history_dir, config, reports_root, last=MAX_PAGE_WINDOWS)
    path = history_path(history_dir).with_name(HISTORY_PAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_history_html(records, config, path.parent, total_windows=total), encoding="utf-8")
    return path
