"""One HTML page per local pipeline run (`<run folder>/report.html`), logged to the pipeline's MLflow run.

The page gathers the evidence the steps already wrote into their outputs, in the order a reviewer reads it: what
failed (if anything), the gate's checks and verdict (decision.json), the test metrics (metrics.json, against the
champion's), the registered version (registration.json), the lineage (input data, each step's component, status,
reuse, MLflow run and code folder), the evaluation plots (every PNG at the top of an output folder), the per-group
metrics (fairness.json, or the RAI step's insights.json), the data profile (profile.json and the MLTable outputs)
and a sweep's trials (sweep.json). A section whose evidence does not exist is left out, so any job YAML gets a
page: a run with no gate gets its steps and the metrics their MLflow runs logged.

Self-contained: plots are embedded as base64, the style is inline, no script and no link leaves the page, so it
opens offline and from an artifact store (MLflow UI: the pipeline run's artifact `report.html`). Stable markers for
tests and tools: `<section id="gate" data-verdict="passed|failed|disabled">`, `<section id="metrics">`,
`<section id="lineage">`, `<section id="failure" data-step="...">`.

`render` only reads the run folder; `publish` (called by the local engine when a run ends, also when it fails or
is stopped) gathers what only the engine knows, writes the page and logs it. A page that cannot be written is a
warning, never a failed run.
"""

from __future__ import annotations

import base64
import html
import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_FILE = "report.html"
MAX_PLOTS = 12
MAX_PLOT_BYTES = 2_000_000  # a bigger PNG is not embedded (the page would be slow to open)
MAX_TABLE_BYTES = 100_000_000  # a bigger table is not read for the data profile
LOG_TAIL_LINES = 20
MAX_CLASSES_SHOWN = 10
ENDED_BADLY = ("failed", "killed")

STYLE = (
    "body{font-family:sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}"
    "h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "nav a{margin-right:1em}table{border-collapse:collapse;margin:.6em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}.verdict{font-size:1.15em;padding:.5em .8em;border-radius:4px}"
    ".good{background:#d8f0d8}.bad{background:#f8d0d0}.warn{background:#fbe9c6}.na{color:#777}"
    "figure{display:inline-block;margin:.5em 1em .5em 0}figcaption{font-size:12px;color:#555}"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}code{font-size:12px}"
)


@dataclass
class RunFacts:
    """What the page shows. `record` is the run's run.json; the rest is what only the engine knows."""

    record: dict[str, Any]
    run_dir: Path
    title: str = ""  # the pipeline's display name
    data_inputs: dict[str, str] = field(default_factory=dict)  # `input` or `step.input` -> data asset or path
    components: dict[str, str] = field(default_factory=dict)  # step -> component name:version
    code_folders: dict[str, str] = field(default_factory=dict)  # step -> the component's code folder
    step_metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # step -> what its MLflow run logged
    git_commit: str | None = None
    read_table: Callable[[Path], Any] | None = None  # an MLTable folder -> data frame; None: profile.json only


# --- publishing ------------------------------------------------------------------------------------------------


def publish(run_dir: Path, record: dict[str, Any], pipeline: Any = None, client: Any = None) -> dict[str, str]:
    """Write the run's page and log it to the pipeline's MLflow run (through `client`, the run's own store).
    Returns {"report": path} for run.json, or {} when the page could not be written (a warning says why)."""
    try:
        path = write(gather(run_dir, record, pipeline, client))
    except Exception as exc:  # the page is a view of the run: it must never fail or hide the run itself
        print(f"warning: the run report was not written: {exc}", file=sys.stderr)
        return {}
    if client is not None:
        try:
            client.log_artifact(record["run_id"], str(path))
        except Exception as exc:
            print(f"warning: the run report was not logged to MLflow: {exc}", file=sys.stderr)
    return {"report": str(path)}


def write(facts: RunFacts) -> Path:
    path = facts.run_dir / REPORT_FILE
    path.write_text(render(facts), encoding="utf-8")
    return path


def gather(run_dir: Path, record: dict[str, Any], pipeline: Any = None, client: Any = None) -> RunFacts:
    """The facts of a run: its record, plus from `pipeline` (mlops.project.pipeline.Pipeline) its data inputs,
    components and code folders, and from `client` (MlflowClient) the metrics each step logged and the commit."""
    facts = RunFacts(record, Path(run_dir))
    if pipeline is not None:
        _from_pipeline(facts, pipeline)
    if client is not None:
        try:
            _from_mlflow(facts, client)
        except Exception as exc:  # the store's trouble costs the page its MLflow metrics, not the page
            print(f"warning: the run report shows no MLflow metrics: {exc}", file=sys.stderr)
    return facts


def _from_pipeline(facts: RunFacts, pipeline: Any) -> None:
    from mlops.errors import MlopsError
    from mlops.project.layout import Layout
    from mlops.project.pipeline import DataInput
    from mlops.project.shared_code import import_shared

    facts.title = str(pipeline.name or "")
    layout = Layout.for_job(Path(pipeline.path))
    for name, source in pipeline.inputs.items():
        if isinstance(source, DataInput):
            facts.data_inputs[name] = source.path
    for step in pipeline.steps.values():
        for name, source in step.inputs.items():
            if isinstance(source, DataInput):
                facts.data_inputs[f"{step.name}.{name}"] = source.path
        component = step.component
        version = f":{component.version}" if component.version is not None else ""
        facts.components[step.name] = f"{component.name}{version}"
        if component.code and getattr(component, "base_path", None):
            folder = (Path(component.base_path) / str(component.code)).resolve()
            facts.code_folders[step.name] = layout.relative(folder)
    try:
        facts.read_table = import_shared(layout.shared_components, "tabular_common.io").read_table
    except (MlopsError, ImportError):  # a job outside a project: the profile comes from profile.json alone
        facts.read_table = None


def _from_mlflow(facts: RunFacts, client: Any) -> None:
    seen: set[str] = set()
    for name, step in facts.record.get("steps", {}).items():
        run_id = step.get("reused_from") or step.get("mlflow_run_id")
        if not run_id or run_id in seen:  # a command job's steps share its one run
            continue
        seen.add(run_id)
        metrics = client.get_run(run_id).data.metrics
        if metrics:
            facts.step_metrics[name] = dict(metrics)
    parent = client.get_run(facts.record["run_id"])
    facts.git_commit = parent.data.tags.get("mlflow.source.git.commit")


# --- the page --------------------------------------------------------------------------------------------------


def render(facts: RunFacts) -> str:
    """The page, as text. Reads the run's evidence files; writes nothing."""
    evidence = _Evidence(facts)
    sections = [
        ("failure", "What failed", _failure(facts)),
        ("gate", "Promotion gate", _gate(evidence)),
        ("metrics", "Metrics", _metrics(facts, evidence)),
        ("registration", "Registered model", _registration(evidence)),
        ("lineage", "Lineage", _lineage(facts)),
        ("plots", "Plots", _plots(facts)),
        ("fairness", "Per-group metrics", _fairness(evidence)),
        ("data", "Data profile", _data(facts, evidence)),
        ("sweep", "Sweep trials", _sweeps(facts)),
    ]
    shown = [(anchor, heading, body) for anchor, heading, body in sections if body]
    record = facts.record
    title = facts.title or Path(str(record.get("pipeline", "run"))).stem
    status = str(record.get("status", "unknown"))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Run report: {_text(title)} ({_text(status)})</title><style>{STYLE}</style></head><body>",
        f"<header id='summary' data-status='{_text(status)}'><h1>Run report: {_text(title)}</h1>",
        f"<p class='verdict {_verdict_class(facts, evidence)}'>{_text(_headline(facts, evidence))}</p>",
        _facts_table(
            [
                ("pipeline", record.get("pipeline")),
                ("run id", record.get("run_id")),
                ("status", status),
                ("duration", _seconds(record.get("seconds"))),
            ]
        ),
        "<nav>" + "".join(f"<a href='#{anchor}'>{_text(heading)}</a>" for anchor, heading, _ in shown) + "</nav>",
        "</header>",
    ]
    for anchor, heading, body in shown:
        marks = "".join(f" data-{key}='{_text(value)}'" for key, value in _marks(facts, evidence, anchor).items())
        parts.append(f"<section id='{anchor}'{marks}><h2>{_text(heading)}</h2>{body}</section>")
    parts.append("</body></html>")
    return "\n".join(part for part in parts if part) + "\n"


def _marks(facts: RunFacts, evidence: _Evidence, anchor: str) -> dict[str, Any]:
    """The data- attributes tests and tools read: the gate's verdict and mode, the step that failed."""
    if anchor == "gate" and isinstance(evidence.decision, dict):
        return {"verdict": _verdict(evidence.decision), "mode": evidence.decision.get("mode")}
    if anchor == "failure":
        bad = _bad_step(facts.record)
        return {"step": bad[0] if bad is not None else ""}
    return {}


class _Evidence:
    """The JSON files the steps wrote, found by name in their output folders (first in step order)."""

    def __init__(self, facts: RunFacts):
        self.decision = _first_json(facts.record, "decision.json")
        self.metrics = _first_json(facts.record, "metrics.json")
        self.champion_metrics = _first_json(facts.record, "champion_metrics.json")
        self.registration = _first_json(facts.record, "registration.json")
        self.profile = _first_json(facts.record, "profile.json")
        fairness = _first_json(facts.record, "fairness.json")
        if not isinstance(fairness, dict):
            insights = _first_json(facts.record, "insights.json")
            fairness = insights.get("fairness") if isinstance(insights, dict) else None
        self.fairness = fairness if isinstance(fairness, dict) else None


def _headline(facts: RunFacts, evidence: _Evidence) -> str:
    """The one line that says how the run ended and what the gate decided."""
    record = facts.record
    status = str(record.get("status", "unknown"))
    duration = _seconds(record.get("seconds"))
    bad = _bad_step(record)
    if status in ENDED_BADLY:
        if bad is None:
            reason = record.get("reason")
            return f"{status.upper()} after {duration}" + (f": {reason}" if reason else "")
        name, step = bad
        code = f" (exit code {step['exit_code']})" if step.get("exit_code") not in (None, 0) else ""
        verb = "during" if step.get("status") == "killed" else "at"
        return f"{status.upper()} {verb} step '{name}'{code} after {duration}"
    line = f"{status} in {duration}"
    decision = evidence.decision
    if isinstance(decision, dict):
        verdict = _verdict(decision)
        line += f"; gate {verdict}" if verdict == "disabled" else f"; gate ({decision.get('mode')}): checks {verdict}"
    registration = evidence.registration
    if isinstance(registration, dict):
        if registration.get("registered"):
            champion = "champion" if registration.get("champion") else "not champion"
            line += f"; registered {registration.get('model_name')} version {registration.get('version')} ({champion})"
        else:
            line += "; not registered, the champion stays"
    return line


def _verdict(decision: dict[str, Any]) -> str:
    """passed, failed or disabled: the gate's checks, whatever the mode did with them."""
    if decision.get("mode") == "disabled" or decision.get("passed") is None:
        return "disabled"
    return "passed" if decision.get("passed") else "failed"


def _verdict_class(facts: RunFacts, evidence: _Evidence) -> str:
    if facts.record.get("status") in ENDED_BADLY:
        return "bad"
    if isinstance(evidence.decision, dict):
        return {"passed": "good", "failed": "warn"}.get(_verdict(evidence.decision), "na")
    return "good" if facts.record.get("status") == "completed" else "na"


def _bad_step(record: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for name, step in record.get("steps", {}).items():
        if step.get("status") in ENDED_BADLY:
            return name, step
    return None


# --- sections (each returns "" when its evidence does not exist) -----------------------------------------------


def _failure(facts: RunFacts) -> str:
    record = facts.record
    if record.get("status") not in ENDED_BADLY:
        return ""
    bad = _bad_step(record)
    skipped = [name for name, step in record.get("steps", {}).items() if step.get("status") == "skipped"]
    rows: list[tuple[str, Any]] = [("run status", record.get("status")), ("reason", record.get("reason"))]
    if bad is not None:
        name, step = bad
        rows += [
            ("step", name),
            ("step status", step.get("status")),
            ("exit code", step.get("exit_code")),
            ("after", _seconds(step.get("seconds"))),
            ("log", step.get("log")),
        ]
    rows.append(("skipped steps", ", ".join(skipped) or None))
    body = _facts_table(rows)
    log = Path(str(bad[1]["log"])) if bad is not None and bad[1].get("log") else None
    if log is not None and log.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
        body += f"<p>Last lines of the step's log:</p><pre>{_text(chr(10).join(tail))}</pre>"
    return body


def _gate(evidence: _Evidence) -> str:
    decision = evidence.decision
    if not isinstance(decision, dict):
        return ""
    verdict = _verdict(decision)
    css = {"passed": "good", "failed": "warn"}.get(verdict, "na")
    rows = "".join(
        f"<tr class='{'good' if check.get('passed') else 'bad'}'><td>{_text(check.get('name'))}</td>"
        f"<td>{'passed' if check.get('passed') else 'failed'}</td><td>{_text(check.get('detail'))}</td></tr>"
        for check in decision.get("checks") or []
        if isinstance(check, dict)
    )
    champion = decision.get("champion_version")
    body = (
        f"<p class='verdict {css}'>Gate ({_text(decision.get('mode'))}): <b>{_text(verdict)}</b>. "
        f"{_text(decision.get('reason'))}</p>"
        + (f"<table><tr><th>check</th><th>result</th><th>detail</th></tr>{rows}</table>" if rows else "")
        + _facts_table(
            [
                ("primary metric", decision.get("primary_metric")),
                ("candidate", _number(decision.get("candidate_value"))),
                ("champion", f"version {champion}: {_number(decision.get('champion_value'))}" if champion else None),
                ("improvement", _number(decision.get("improvement"))),
                ("min_metric", _number(decision.get("min_metric"))),
                ("min_improvement", _number(decision.get("min_improvement"))),
                ("max_disparity", _number(decision.get("max_disparity"))),
                ("an enforced gate would register", _yes_no(decision.get("would_register"))),
                ("registers", _yes_no(decision.get("register"))),
            ]
        )
    )
    return body


def _metrics(facts: RunFacts, evidence: _Evidence) -> str:
    body = ""
    metrics = evidence.metrics
    if isinstance(metrics, dict) and metrics:
        champion = evidence.champion_metrics if isinstance(evidence.champion_metrics, dict) else {}
        primary = evidence.decision.get("primary_metric") if isinstance(evidence.decision, dict) else None
        version = evidence.decision.get("champion_version") if isinstance(evidence.decision, dict) else None
        head = "<tr><th>metric</th><th>candidate (test split)</th>" + (
            f"<th>champion{_text(f' version {version}' if version else '')} (same rows)</th>" if champion else ""
        )
        rows = "".join(
            f"<tr{' class=good' if name == primary else ''}><td>{_text(name)}"
            f"{' (primary)' if name == primary else ''}</td><td>{_number(value)}</td>"
            + (f"<td>{_number(champion.get(name))}</td>" if champion else "")
            + "</tr>"
            for name, value in metrics.items()
            if _is_number(value)
        )
        body += f"<table>{head}</tr>{rows}</table>"
    logged = "".join(
        f"<tr><td>{_text(step)}</td><td>"
        + " · ".join(f"{_text(name)} <b>{_number(value)}</b>" for name, value in sorted(values.items()))
        + "</td></tr>"
        for step, values in facts.step_metrics.items()
    )
    if logged:
        body += (
            "<p>What each step's MLflow run logged (the last value of each metric):</p>"
            f"<table><tr><th>step</th><th>metrics</th></tr>{logged}</table>"
        )
    return body


def _registration(evidence: _Evidence) -> str:
    info = evidence.registration
    if not isinstance(info, dict):
        return ""
    if not info.get("registered"):
        return _facts_table([("registered", "no"), ("reason", info.get("reason"))])
    return _facts_table(
        [
            ("model", info.get("model_name")),
            ("version", info.get("version")),
            ("champion", "yes" if info.get("champion") else "no"),
            ("why", info.get("champion_reason")),
            ("previous champion", info.get("previous_champion_version")),
            ("source", info.get("source")),
        ]
    )


def _lineage(facts: RunFacts) -> str:
    record = facts.record
    body = _facts_table(
        [("pipeline file", record.get("pipeline")), ("run id", record.get("run_id")), ("git commit", facts.git_commit)]
    )
    if facts.data_inputs:
        rows = "".join(f"<tr><td>{_text(k)}</td><td>{_text(v)}</td></tr>" for k, v in facts.data_inputs.items())
        body += f"<table><tr><th>input data</th><th>asset or path</th></tr>{rows}</table>"
    steps = record.get("steps") or {}
    if steps:
        rows = "".join(
            f"<tr class='{_status_class(step.get('status'))}'><td>{_text(name)}</td>"
            f"<td>{_text(facts.components.get(name))}</td><td>{_text(step.get('status'))}</td>"
            f"<td>{_seconds(step.get('seconds')) if step.get('status') not in ('skipped', 'reused') else ''}</td>"
            f"<td>{_code(step.get('reused_from'))}</td><td>{_code(step.get('mlflow_run_id'))}</td>"
            f"<td>{_code(facts.code_folders.get(name))}</td></tr>"
            for name, step in steps.items()
        )
        body += (
            "<table><tr><th>step</th><th>component</th><th>status</th><th>took</th><th>reused from run</th>"
            f"<th>MLflow run</th><th>code folder</th></tr>{rows}</table>"
        )
    return body


def _plots(facts: RunFacts) -> str:
    figures = []
    for step, _, folder in _output_folders(facts.record):
        for image in sorted(folder.glob("*.png")):
            if len(figures) >= MAX_PLOTS or image.stat().st_size > MAX_PLOT_BYTES:
                continue
            data = base64.b64encode(image.read_bytes()).decode("ascii")
            figures.append(
                f"<figure><img src='data:image/png;base64,{data}' alt='{_text(image.stem)}'>"
                f"<figcaption>{_text(step)}: {_text(image.name)}</figcaption></figure>"
            )
    return "".join(figures)


def _fairness(evidence: _Evidence) -> str:
    fairness = evidence.fairness
    groups = fairness.get("groups") if fairness else None
    if not isinstance(groups, dict) or not groups:
        return ""
    assert fairness is not None
    columns: list[str] = []
    for values in groups.values():
        columns += [name for name in (values if isinstance(values, dict) else {}) if name not in columns]
    rows = "".join(
        f"<tr><td>{_text(group)}</td>"
        + "".join(f"<td>{_number(values.get(c)) if isinstance(values, dict) else ''}</td>" for c in columns)
        + "</tr>"
        for group, values in groups.items()
    )
    differences = fairness.get("differences") or {}
    if differences:
        rows += (
            "<tr class='na'><td>largest gap</td>"
            + "".join(f"<td>{_number(differences.get(c))}</td>" for c in columns)
            + "</tr>"
        )
    header = "".join(f"<th>{_text(c)}</th>" for c in columns)
    body = (
        f"<p>Sensitive feature <b>{_text(fairness.get('sensitive_feature'))}</b> (test split).</p>"
        f"<table><tr><th>group</th>{header}</tr>{rows}</table>"
    )
    disparities = fairness.get("disparities") or {}
    body += _facts_table([(name, _number(value)) for name, value in disparities.items()])
    check = fairness.get("check")
    if not check and isinstance(evidence.decision, dict):
        check = next((c for c in evidence.decision.get("checks") or [] if c.get("name") == "max_disparity"), None)
    if isinstance(check, dict):
        body += f"<p>Fairness check: {'passed' if check.get('passed') else 'failed'}: {_text(check.get('detail'))}</p>"
    return body


def _data(facts: RunFacts, evidence: _Evidence) -> str:
    profile = evidence.profile if isinstance(evidence.profile, dict) else {}
    target = profile.get("target") or {}
    task = profile.get("task")
    body = ""
    if profile:
        sources = ", ".join(f"{s.get('file')} (sha256 {str(s.get('sha256'))[:12]})" for s in profile.get("sources", []))
        split = profile.get("split") or {}
        body += _facts_table(
            [
                ("source", sources or None),
                ("task", task),
                ("rows × columns read", _shape(profile.get("input_rows"), profile.get("input_columns"))),
                ("rows × columns kept", _shape(profile.get("rows"), profile.get("columns"))),
                ("dropped columns", ", ".join(profile.get("dropped_columns") or []) or None),
                ("missing values", _percent(profile.get("missing_value_rate"))),
                ("target", target.get("column")),
                ("positive label", target.get("positive_label")),
                ("test split", _split_text(split)),
            ]
        )
    rows = list(_split_rows(facts, target.get("column"), task))
    if not rows and profile:  # no table could be read: what profile.json says of the splits
        split = profile.get("split") or {}
        for name in ("train", "test"):
            balance = target.get(f"{name}_class_balance")
            if split.get(f"{name}_rows") is not None:
                rows.append((name, split.get(f"{name}_rows"), profile.get("columns"), None, _balance(balance)))
    if rows:
        cells = "".join(
            f"<tr><td>{_text(label)}</td><td>{_text(n)}</td><td>{_text(c)}</td><td>{_text(missing)}</td>"
            f"<td>{_text(about)}</td></tr>"
            for label, n, c, missing, about in rows
        )
        about = "target summary" if task == "regression" else "target balance"
        body += (
            f"<table><tr><th>data</th><th>rows</th><th>columns</th><th>missing</th><th>{about}</th></tr>{cells}</table>"
        )
    return body


def _split_rows(facts: RunFacts, target: str | None, task: str | None) -> Iterator[tuple[Any, ...]]:
    """rows, columns, missing values and target balance (or summary) of each MLTable folder a step wrote."""
    if facts.read_table is None:
        return
    for step, output, folder in _output_folders(facts.record):
        if not (folder / "MLTable").is_file():
            continue
        if sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) > MAX_TABLE_BYTES:
            continue
        try:
            frame = facts.read_table(folder)
        except Exception:  # an unreadable table is left out of the page, as a missing one is
            continue
        missing = float(frame.isna().to_numpy().mean()) if frame.size else 0.0
        about = None
        if target is not None and target in frame.columns:
            column = frame[target]
            if task == "regression":
                about = (
                    f"mean {_number(column.mean())}, std {_number(column.std())}, "
                    f"min {_number(column.min())}, max {_number(column.max())}"
                )
            else:
                shares = column.astype(str).value_counts(normalize=True).sort_index()
                about = _balance({str(k): float(v) for k, v in shares.items()})
        yield f"{step}.{output}", len(frame), frame.shape[1], _percent(missing), about


def _sweeps(facts: RunFacts) -> str:
    body = ""
    for name in facts.record.get("steps", {}):
        summary = _json_file(facts.run_dir / name / "sweep.json")
        if not isinstance(summary, dict) or not summary.get("trials"):
            continue
        metric = summary.get("primary_metric")
        best = summary.get("best_trial")
        rows = "".join(
            f"<tr class='{'good' if trial.get('trial') == best else _status_class(trial.get('status'))}'>"
            f"<td>{_text(trial.get('trial'))}</td><td>{_code(json.dumps(trial.get('params'), sort_keys=True))}</td>"
            f"<td>{_text(trial.get('status'))}</td><td>{_number(trial.get('metric'))}</td>"
            f"<td>{_code(trial.get('mlflow_run_id'))}</td></tr>"
            for trial in summary["trials"]
            if isinstance(trial, dict)
        )
        body += (
            f"<p>Step <b>{_text(name)}</b>: objective {_text(metric)} ({_text(summary.get('goal'))}), "
            f"best trial {_text(best)}.</p><table><tr><th>trial</th><th>sampled inputs</th><th>status</th>"
            f"<th>{_text(metric)}</th><th>MLflow run</th></tr>{rows}</table>"
        )
    return body


# --- reading the evidence --------------------------------------------------------------------------------------


def _output_folders(record: dict[str, Any]) -> Iterator[tuple[str, str, Path]]:
    """(step, output, folder) of every output folder the steps wrote, in step order."""
    for step, info in (record.get("steps") or {}).items():
        for output, path in (info.get("outputs") or {}).items():
            folder = Path(str(path))
            if folder.is_dir():
                yield step, output, folder


def _first_json(record: dict[str, Any], name: str) -> Any:
    for _, _, folder in _output_folders(record):
        if (folder / name).is_file():
            return _json_file(folder / name)
    return None


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a missing or broken file is evidence that does not exist
        return None


# --- formatting ------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _code(value: Any) -> str:
    return f"<code>{_text(value)}</code>" if value not in (None, "") else ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> str:
    if not _is_number(value):
        return _text(value)
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:  # counts MLflow logged as floats
        return str(int(value))
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"


def _yes_no(value: Any) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _seconds(value: Any) -> str:
    if not _is_number(value):
        return ""
    minutes, seconds = divmod(float(value), 60)
    return f"{int(minutes)} min {seconds:.0f} s" if minutes else f"{seconds:.1f} s"


def _percent(value: Any) -> str | None:
    return f"{100 * value:.2f}%" if _is_number(value) else None


def _shape(rows: Any, columns: Any) -> str | None:
    return f"{rows} × {columns}" if rows is not None and columns is not None else None


def _balance(shares: Any) -> str | None:
    if not isinstance(shares, dict) or not shares:
        return None
    shown = [f"{label}: {100 * share:.1f}%" for label, share in list(shares.items())[:MAX_CLASSES_SHOWN]]
    more = len(shares) - MAX_CLASSES_SHOWN
    return " · ".join(shown) + (f" · … {more} more" if more > 0 else "")


def _split_text(split: dict[str, Any]) -> str | None:
    if not split:
        return None
    kind = "stratified" if split.get("stratified") else "random"
    return f"{split.get('test_size')} of the rows, {kind}, seed {split.get('seed')}"


def _status_class(status: Any) -> str:
    return {"completed": "good", "reused": "good", "failed": "bad", "killed": "bad", "skipped": "na"}.get(
        str(status), ""
    )


def _facts_table(rows: list[tuple[str, Any]]) -> str:
    shown = [(name, value) for name, value in rows if value not in (None, "")]
    if not shown:
        return ""
    cells = "".join(f"<tr><th>{_text(name)}</th><td>{_text(value)}</td></tr>" for name, value in shown)
    return f"<table>{cells}</table>"
