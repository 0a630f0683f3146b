"""Render a window's result as files: report.json (every metric, threshold and breach) and report.html
(self-contained: tables plus reference-vs-production plots of the breached features of signals whose kind plots
distributions). Only renders: the result carries every value, direction and plot kind."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from mlops.monitoring.metrics import NUMERICAL, Distribution
from mlops.monitoring.results import (
    BELOW,
    DISTRIBUTIONS,
    MAX_DISTRIBUTION_LABELS,
    NOT_ENOUGH_DATA,
    SKIPPED,
    FeatureResult,
    MonitorResult,
    SignalResult,
)

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
MAX_PLOTS = 24


# ---------------------------------------------------------------------------------------------------------------
# JSON


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_json(result: MonitorResult, out_dir: Path) -> Path:
    path = out_dir / REPORT_JSON
    path.write_text(json.dumps(_json_safe(result.to_dict()), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# HTML


def _plot_png(feature: str, distribution: Distribution) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(6.4, 3.2), dpi=90)
    try:
        if distribution.kind == NUMERICAL and distribution.edges is not None:
            edges = np.asarray(distribution.edges)
            widths = np.diff(edges) if len(edges) > 1 else np.array([1.0])
            axis.bar(edges[:-1], distribution.reference, width=widths, align="edge", alpha=0.5, label="reference")
            axis.bar(edges[:-1], distribution.production, width=widths, align="edge", alpha=0.5, label="production")
            axis.set_ylabel("share of rows per bin")
        else:
            labels = [str(label) for label in distribution.labels]
            positions = np.arange(len(labels))
            axis.bar(positions - 0.2, distribution.reference, width=0.4, label="reference")
            axis.bar(positions + 0.2, distribution.production, width=0.4, label="production")
            axis.set_xticks(
                positions, labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center"
            )
            axis.set_ylabel("share of rows")
        axis.set_title(feature)
        axis.legend()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _feature_rows(signal: SignalResult, feature: FeatureResult) -> list[str]:
    rows = []
    for metric in feature.metrics:
        if metric.breached:
            status = (
                '<td class="bad">breach</td>' if signal.alert_enabled else '<td class="warn">breach (alert off)</td>'
            )
        elif metric.value is None:
            status = f'<td class="na">not computable: {html.escape(metric.reason or "")}</td>'
        elif metric.threshold is None:
            status = '<td class="na">reported only</td>'
        else:
            status = '<td class="ok">ok</td>'
        alert_if = "value &lt; threshold" if metric.direction == BELOW else "value &gt; threshold"
        rows.append(
            f"<tr><td>{_cell(feature.feature)}</td><td>{_cell(feature.column_type)}</td><td>{_cell(metric.metric)}</td>"
            f"<td>{_cell(metric.value)}</td><td>{_cell(metric.threshold)}</td><td>{alert_if}</td>{status}</tr>"
        )
    return rows


def render_html(result: MonitorResult) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Monitor {html.escape(result.monitor)} — {html.escape(result.window)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}.bad{background:#f8d0d0}"
        ".warn{background:#fbe9c6}.ok{background:#d8f0d8}.na{color:#777}img{margin:4px}</style></head><body>",
        f"<h1>Monitor {html.escape(result.monitor)}</h1>",
        f"<p>Window <b>{html.escape(result.window)}</b>, {result.timestamp.isoformat()} — "
        f"<b>{'BREACHED' if result.breached else 'no alert'}</b></p>",
    ]
    if result.retrain is not None:
        parts.append(
            f"<p>Retrain: <b>{'yes' if result.retrain.retrain else 'no'}</b> — {html.escape(result.retrain.reason)}</p>"
        )
    skipped = result.input_lines.summary() if result.input_lines else None
    if skipped:
        parts.append(f"<p class='warn'>Input: {html.escape(skipped)}</p>")
    if result.warnings:
        parts.append("<ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings) + "</ul>")
    plotted: set[tuple[str, str]] = set()
    for signal in result.signals:
        parts.append(f"<h2>{html.escape(signal.name)} <small>({html.escape(signal.type)})</small></h2>")
        alert = "on" if signal.alert_enabled else "off"
        if signal.status == SKIPPED:
            parts.append(f"<p>Skipped: {html.escape(signal.reason or '')}</p>")
            continue
        if signal.status == NOT_ENOUGH_DATA:
            parts.append(f"<p class='na'>Not enough data: {html.escape(signal.reason or '')}</p>")
            continue
        parts.append(f"<p>Alert {alert}. " + " ".join(html.escape(n) for n in signal.notes) + "</p>")
        parts.append(
            "<table><tr><th>feature</th><th>type</th><th>metric</th><th>value</th><th>threshold</th>"
            "<th>alerts when</th><th>status</th></tr>"
        )
        for feature in signal.features:
            parts.extend(_feature_rows(signal, feature))
        parts.append("</table>")
        notes = [f"<li><b>{_cell(f.feature)}</b>: {html.escape(n)}</li>" for f in signal.features for n in f.notes]
        if notes:
            parts.append("<ul>" + "".join(notes) + "</ul>")
        if signal.plot == DISTRIBUTIONS:
            for feature in signal.features:
                key = (feature.feature, feature.column_type or "")
                distribution = feature.distribution
                if (
                    feature.breached
                    and distribution is not None
                    and len(distribution.labels) <= MAX_DISTRIBUTION_LABELS
                    and key not in plotted
                ):
                    if len(plotted) >= MAX_PLOTS:
                        break
                    plotted.add(key)
                    png = _plot_png(feature.feature, feature.distribution)
                    parts.append(f"<img alt='{_cell(feature.feature)}' src='data:image/png;base64,{png}'>")
    if result.operational is not None:
        parts.append(result.operational.html())
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(result: MonitorResult, out_dir: Path) -> Path:
    path = out_dir / REPORT_HTML
    path.write_text(render_html(result), encoding="utf-8")
    return path
