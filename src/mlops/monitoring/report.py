"""Render a window's result as files: report.json (every metric, threshold and breach: the machine contract) and
report.html (self-contained, summary first: a card per signal, then per signal a row per feature, the furthest past
its threshold first, linked to reference-vs-production plots of the breached features of signals whose kind plots
distributions). Only renders: the result carries every value, direction and plot kind."""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from mlops.monitoring.metrics import NUMERICAL, Distribution
from mlops.monitoring.results import (
    BELOW,
    COMPUTED,
    DISTRIBUTIONS,
    MAX_DISTRIBUTION_LABELS,
    NOT_ENOUGH_DATA,
    SKIPPED,
    FeatureResult,
    MetricResult,
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
# HTML: summary first. A card per signal (ok / breach / not enough data, the breaching features named), then per
# signal one row per feature, the furthest past its threshold first, showing the feature's alerting metric; the
# other metrics are folded away (<details>) and a breached feature's row links to its plot. No script, no external
# resource: the page opens offline and from an artifact store.


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


# data-status of a signal's card (what the browser test and a reader's eye go by); a skipped signal had no data
CARD_STATUS = {"breach": "breach", "ok": "ok", NOT_ENOUGH_DATA: "not-enough-data", SKIPPED: "not-enough-data"}

STYLE = (
    "body{font-family:sans-serif;margin:1.5em 2em;max-width:1200px;color:#222}"
    "h1{margin:0 0 .2em;font-size:1.5em}h2{margin:1.4em 0 .3em;font-size:1.2em}p{margin:.3em 0}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;"
    "text-align:left;vertical-align:top}.bad{background:#f8d0d0}.warn{background:#fbe9c6}.ok{background:#d8f0d8}"
    ".na{color:#777}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px;"
    "margin:.8em 0}.card{border:1px solid #ccc;border-left:6px solid #9c9;border-radius:4px;padding:6px 10px;"
    "font-size:13px}.card h3{margin:0;font-size:15px}.card[data-status=breach]{border-left-color:#d33}"
    ".card[data-status=breach].alert-off{border-left-color:#e9a23b}.card[data-status=not-enough-data]"
    "{border-left-color:#aaa}.card .status{font-weight:bold}ul.breaching{margin:.2em 0;padding:0;list-style:none}"
    "ul.breaching li{display:inline-block;background:#f8d0d0;border-radius:3px;padding:0 5px;margin:1px 2px}"
    "details summary{cursor:pointer;color:#555}details table{margin:.3em 0}figure{display:inline-block;"
    "margin:4px;vertical-align:top}figcaption{font-size:12px;color:#555}figure:target{outline:3px solid #e9a23b}"
    "small{color:#666}"
)


def past_threshold(value: float | None, threshold: float | None, direction: str | None) -> float | None:
    """How far past its threshold a value is, in units of the threshold: > 0 breached (1.0 = by the threshold's
    size), <= 0 within it. A zero threshold has no unit: any excess is +inf, anything else -inf (a rate of 0 against
    0 is as far from alerting as it gets). None without value or threshold."""
    if value is None or threshold is None or math.isnan(value):
        return None
    gap = threshold - value if direction == BELOW else value - threshold
    if threshold == 0:
        return math.inf if gap > 0 else -math.inf
    return gap / abs(threshold)


def _metric_excess(metric: MetricResult) -> float | None:
    return past_threshold(metric.value, metric.threshold, metric.direction)


def lead_metric(feature: FeatureResult) -> MetricResult:
    """The metric a feature's row shows: the alerting metric (one with a threshold) furthest past its threshold;
    with none computable, the first alerting one; with no threshold at all, the first metric."""
    alerting = [m for m in feature.metrics if m.threshold is not None]
    computable = [m for m in alerting if _metric_excess(m) is not None]
    if computable:
        return max(computable, key=lambda m: (_metric_excess(m), _toward_alert(m)))
    return (alerting or feature.metrics)[0]


def _toward_alert(metric: MetricResult) -> float:
    """The value oriented so that larger is worse (breaks ties between equally far metrics or features)."""
    value = metric.value if metric.value is not None else 0.0
    return -value if metric.direction == BELOW else value


def feature_order(signal: SignalResult) -> list[FeatureResult]:
    """The signal's features, the furthest past its threshold first; not computable and reported-only last."""

    def key(feature: FeatureResult) -> tuple:
        lead = lead_metric(feature)
        excess = _metric_excess(lead)
        if lead.threshold is None:
            return (2, 0.0, 0.0)
        if excess is None:
            return (1, 0.0, 0.0)
        return (0, -excess, -_toward_alert(lead))

    return sorted(signal.features, key=key)


def _anchor(*parts: str) -> str:
    """An id from names (letters, digits, `_`, `.` and `-` kept; anything else becomes `_`)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]", "_", part) for part in parts)


def _status_cell(signal: SignalResult, metric: MetricResult) -> str:
    if metric.breached:
        return '<td class="bad">breach</td>' if signal.alert_enabled else '<td class="warn">breach (alert off)</td>'
    if metric.value is None:
        return f'<td class="na">not computable: {html.escape(metric.reason or "")}</td>'
    if metric.threshold is None:
        return '<td class="na">reported only</td>'
    return '<td class="ok">ok</td>'


def _past_text(metric: MetricResult) -> str:
    """`+0.73 (+730%)`: the gap to the threshold in the alerting direction (negative: within it)."""
    excess = _metric_excess(metric)
    if excess is None:
        return ""
    gap = metric.threshold - metric.value if metric.direction == BELOW else metric.value - metric.threshold
    return f"{gap:+.3g}" + (f" ({excess:+.0%})" if metric.threshold != 0 else "")


def _metric_cells(signal: SignalResult, metric: MetricResult) -> str:
    alert_if = "value &lt; threshold" if metric.direction == BELOW else "value &gt; threshold"
    return (
        f"<td>{_cell(metric.metric)}</td><td>{_cell(metric.value)}</td><td>{_cell(metric.threshold)}</td>"
        f"<td>{alert_if}</td>{_status_cell(signal, metric)}"
    )


def _folded(signal: SignalResult, feature: FeatureResult, lead: MetricResult) -> str:
    """The feature's other metrics and notes, folded away."""
    others = [m for m in feature.metrics if m is not lead]
    if not others and not feature.notes:
        return ""
    counts = [f"{len(others)} more metric{'s' if len(others) != 1 else ''}"] if others else []
    breached = sum(m.breached for m in others)
    if breached:
        counts.append(f"{breached} breached")
    if feature.notes:
        counts.append(f"{len(feature.notes)} note{'s' if len(feature.notes) != 1 else ''}")
    rows = "".join(f"<tr>{_metric_cells(signal, m)}</tr>" for m in others)
    table = f"<table>{rows}</table>" if rows else ""
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in feature.notes)
    return f"<details><summary>{', '.join(counts)}</summary>{table}{notes}</details>"


def _card(signal: SignalResult) -> str:
    """The signal's header card: its status, the breaching features by name, the worst metric."""
    anchor = _anchor("signal", signal.name)
    status = signal.status if signal.status != COMPUTED else ("breach" if signal.breached else "ok")
    alert = "on" if signal.alert_enabled else "off"
    head = (
        f'<div class="card alert-{alert}" data-signal="{html.escape(signal.name)}" '
        f'data-status="{CARD_STATUS[status]}" data-alert="{alert}">'
        f'<h3><a href="#{anchor}">{html.escape(signal.name)}</a></h3><small>{html.escape(signal.type)}, alert {alert}'
        "</small>"
    )
    if status == SKIPPED:
        body = f"<p class='status na'>skipped</p><p>{html.escape(signal.reason or '')}</p>"
    elif status == NOT_ENOUGH_DATA:
        body = f"<p class='status na'>not enough data</p><p>{html.escape(signal.reason or '')}</p>"
    elif status == "ok":
        closest = feature_order(signal)[:1]
        lead = lead_metric(closest[0]) if closest else None
        near = (
            f"<p><small>closest: {_cell(closest[0].feature)} {_cell(lead.metric)} {_cell(lead.value)} (threshold "
            f"{_cell(lead.threshold)})</small></p>"
            if lead is not None and _metric_excess(lead) is not None
            else ""
        )
        body = f"<p class='status'>ok</p><p>{len(signal.features)} checked</p>{near}"
    else:
        breached = [f for f in feature_order(signal) if f.breached]
        label = "BREACH" if signal.alert_enabled else "breach (alert off)"
        worst = lead_metric(breached[0])
        names = "".join(f"<li>{_cell(f.feature)}</li>" for f in breached)
        body = (
            f"<p class='status'>{label}: {len(breached)} of {len(signal.features)}</p>"
            f"<ul class='breaching'>{names}</ul>"
            f"<p><small>worst: {_cell(breached[0].feature)} {_cell(worst.metric)} {_cell(worst.value)} "
            f"{'&lt;' if worst.direction == BELOW else '&gt;'} {_cell(worst.threshold)}</small></p>"
        )
    return head + body + "</div>"


def _plots(
    signal: SignalResult, features: list[FeatureResult], plotted: dict[tuple[str, str], str]
) -> tuple[dict[str, str], list[str]]:
    """The figure id of each breached feature's distribution, and the figures new to the page: a distribution is
    drawn once per page (`plotted` maps (feature, column type) to its figure's id; another signal links to it)."""
    ids: dict[str, str] = {}
    figures: list[str] = []
    if signal.plot != DISTRIBUTIONS:
        return ids, figures
    for feature in features:
        key = (feature.feature, feature.column_type or "")
        distribution = feature.distribution
        if not feature.breached or distribution is None or len(distribution.labels) > MAX_DISTRIBUTION_LABELS:
            continue
        if key not in plotted:
            if len(plotted) >= MAX_PLOTS:
                continue
            plotted[key] = _anchor("plot", signal.name, feature.feature)
            png = _plot_png(feature.feature, distribution)
            figures.append(
                f"<figure id='{plotted[key]}'><img alt='{_cell(feature.feature)}' src='data:image/png;base64,{png}'>"
                f"<figcaption>{_cell(feature.feature)}: reference vs production</figcaption></figure>"
            )
        ids[feature.feature] = plotted[key]
    return ids, figures


def _signal_section(signal: SignalResult, plotted: dict[tuple[str, str], str]) -> list[str]:
    parts = [
        f"<section class='signal' id='{_anchor('signal', signal.name)}'>",
        f"<h2>{html.escape(signal.name)} <small>({html.escape(signal.type)})</small></h2>",
    ]
    if signal.status == SKIPPED:
        return [*parts, f"<p>Skipped: {html.escape(signal.reason or '')}</p></section>"]
    if signal.status == NOT_ENOUGH_DATA:
        return [*parts, f"<p class='na'>Not enough data: {html.escape(signal.reason or '')}</p></section>"]
    alert = "on" if signal.alert_enabled else "off"
    parts.append(f"<p>Alert {alert}. " + " ".join(html.escape(n) for n in signal.notes) + "</p>")
    features = feature_order(signal)
    plot_ids, figures = _plots(signal, features, plotted)
    parts.append(
        "<table class='features'><tr><th>feature</th><th>type</th><th>metric</th><th>value</th><th>threshold</th>"
        "<th>alerts when</th><th>status</th><th>past threshold by</th><th>plot</th><th>other metrics</th></tr>"
    )
    for feature in features:
        lead = lead_metric(feature)
        plot_id = plot_ids.get(feature.feature)
        link = f"<a href='#{plot_id}'>plot</a>" if plot_id else ""
        parts.append(
            f"<tr data-feature='{_cell(feature.feature)}'><td>{_cell(feature.feature)}</td>"
            f"<td>{_cell(feature.column_type)}</td>{_metric_cells(signal, lead)}<td>{_past_text(lead)}</td>"
            f"<td>{link}</td><td>{_folded(signal, feature, lead)}</td></tr>"
        )
    parts.append("</table>")
    if figures:
        parts.append("<div class='plots'>" + "".join(figures) + "</div>")
    parts.append("</section>")
    return parts


def render_html(result: MonitorResult) -> str:
    verdict = "BREACHED" if result.breached else "no alert"
    if result.breached:
        verdict += ": " + ", ".join(html.escape(name) for name in result.breached_signals)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Monitor {html.escape(result.monitor)} — {html.escape(result.window)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Monitor {html.escape(result.monitor)}</h1>",
        f"<p>Window <b>{html.escape(result.window)}</b>, {result.timestamp.isoformat()} — <b>{verdict}</b></p>",
    ]
    if result.retrain is not None:
        parts.append(
            f"<p>Retrain: <b>{'yes' if result.retrain.retrain else 'no'}</b> — {html.escape(result.retrain.reason)}</p>"
        )
    skipped = result.input_lines.summary() if result.input_lines else None
    if skipped:
        parts.append(f"<p class='warn'>Input: {html.escape(skipped)}</p>")
    parts.append("<div class='cards'>" + "".join(_card(signal) for signal in result.signals) + "</div>")
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts.append(
            f"<details class='warnings'><summary>{len(result.warnings)} warning(s)</summary><ul>{items}</ul></details>"
        )
    plotted: dict[tuple[str, str], str] = {}
    for signal in result.signals:
        parts.extend(_signal_section(signal, plotted))
    if result.operational is not None:
        parts.append(result.operational.html())
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(result: MonitorResult, out_dir: Path) -> Path:
    path = out_dir / REPORT_HTML
    path.write_text(render_html(result), encoding="utf-8")
    return path
