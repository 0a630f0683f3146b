"""The RAI report: one self-contained HTML page a person reads (charts as inline SVG, no network fetches), beside
insights.json."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def bar_chart(rows: list[dict[str, Any]], label: str, value: str, title: str, top: int = 12) -> str:
    """A horizontal bar chart as inline SVG (no plotting library to import, nothing to fetch, sharp at any size)."""
    shown = rows[:top]
    largest = max((abs(float(row[value])) for row in shown), default=0.0) or 1.0
    height, label_width, bar_width = 22, 330, 300
    bars = []
    for index, row in enumerate(shown):
        y = 28 + index * height
        width = max(1.0, bar_width * abs(float(row[value])) / largest)
        bars.append(
            f"<text x='{label_width - 6}' y='{y + 14}' text-anchor='end'>{_e(str(row[label])[:48])}</text>"
            f"<rect x='{label_width}' y='{y + 3}' width='{width:.1f}' height='{height - 6}' fill='#4878a8'/>"
            f"<text x='{label_width + width + 4:.1f}' y='{y + 14}'>{float(row[value]):.3g}</text>"
        )
    total = 36 + len(shown) * height
    return (
        f"<svg width='{label_width + bar_width + 60}' height='{total}' "
        f"font-family='sans-serif' font-size='12' role='img' aria-label='{_e(title)}'>"
        f"<text x='4' y='16' font-weight='bold'>{_e(title)}</text>{''.join(bars)}</svg>"
    )


def write_html(insights: dict[str, Any], path: Path) -> Path:
    explanations, errors, fairness = insights["explanations"], insights["error_analysis"], insights.get("fairness")
    top = ", ".join(row["feature"] for row in explanations["permutation"][:3])
    worst = errors["tree_cohorts"][0] if errors["tree_cohorts"] else None
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Responsible AI report</title>",
        "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        ".card{background:#f4f6f8;padding:.8em 1em;border-radius:6px}.bad{color:#b00020}</style></head><body>",
        f"<h1>Responsible AI report: {_e(insights['model'])}</h1>",
        "<div class='card'><p><b>The model relies most on</b> " + _e(top) + " (permutation importance).</p>",
        f"<p><b>Overall error rate</b> {errors['error_rate']:.1%} on {errors['rows']} rows.",
    ]
    if worst:
        parts.append(
            f" <b>Worst cohort</b>: {_e(worst['conditions'])}: {worst['error_rate']:.1%} of {worst['rows']} rows.</p>"
        )
    if fairness:
        check = fairness.get("check")
        verdict = (
            ""
            if not check
            else f" — gate check: <span class='{'' if check['passed'] else 'bad'}'>{_e(check['detail'])}</span>"
        )
        parts.append(f"<p><b>Fairness over {_e(fairness['sensitive_feature'])}</b>{verdict}</p>")
    parts.append("</div>")
    importance = bar_chart(explanations["permutation"], "feature", "importance", "Permutation importance")
    parts += ["<h2>Global explanations</h2>", importance, "<h3>Permutation importance</h3>"]
    parts.append(_table(explanations["permutation"], ["feature", "importance", "std"]))
    surrogate = explanations["surrogate"]
    parts.append(
        f"<h3>Glass-box surrogate (EBM)</h3><p>Fidelity {surrogate['fidelity']:.3f} "
        f"({_e(surrogate['fidelity_kind'])}).</p>"
    )
    parts.append(_table(surrogate["global"], ["feature", "importance"]))
    parts.append("<h2>Local explanations</h2><p>Each feature's contribution to the surrogate's score for a row.</p>")
    for row in surrogate["local"]:
        parts.append(f"<h4>Row {row['row']}: model predicts {_e(row['model_prediction'])}</h4>")
        parts.append(_table(row["contributions"][:6], ["feature", "value", "contribution"]))
    cohorts = bar_chart(errors["tree_cohorts"], "conditions", "error_rate", "Error rate by cohort")
    parts += ["<h2>Error analysis</h2>", cohorts, "<h3>Cohorts (error tree leaves)</h3>"]
    parts.append(_table(errors["tree_cohorts"], ["conditions", "rows", "errors", "error_rate"]))
    parts.append("<h3>By feature</h3>")
    parts.append(_table(errors["feature_cohorts"][:15], ["conditions", "rows", "errors", "error_rate"]))
    if fairness:
        parts.append(f"<h2>Fairness: per group of {_e(fairness['sensitive_feature'])}</h2>")
        groups = [{"group": name, **values} for name, values in fairness["groups"].items()]
        parts.append(_table(groups, list(groups[0]) if groups else []))
        disparities = [{"measure": k, "value": v} for k, v in (fairness.get("disparities") or {}).items()]
        parts.append(_table(disparities, ["measure", "value"]))
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return _e("" if value is None else value)


def _e(value: Any) -> str:
    return html.escape(str(value))
