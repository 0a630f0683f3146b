"""`mlops run`: the whole loop on the local target, for one model (the sample model by default).

train (the model's pipeline) -> serve its champion with the Azure inference server on 127.0.0.1 -> smoke-test it
with the sample requests (no errors; predictions equal the model's own `predict`) -> batch-score the model's
production batches with its batch deployment's script -> monitor each against the training data (with a drift
manifest, as the sample has, the drifted batch must breach on exactly the drifted features) -> say where
everything is.

A stop signal (SIGINT, SIGTERM, SIGHUP) stops whatever runs: the pipeline's step (`jobs`), the server (`online`).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import Interrupted, StepFailed
from mlops.project.catalog import ModelRef
from mlops.project.layout import ModelLayout
from mlops.reports.run_report import REPORT_FILE
from mlops.targets.local import batch, monitor, online
from mlops.targets.local.jobs import PipelineRun, submit
from mlops.targets.local.registry import materialize

Echo = Callable[[str], None]


@dataclass
class LoopResult:
    training: PipelineRun
    model: ModelRef | None = None
    smoke_tests: dict[str, int] = field(default_factory=dict)  # request file -> rows checked
    batch_outputs: dict[str, Path] = field(default_factory=dict)  # data asset -> predictions file
    collected: Path | None = None
    monitoring: dict[str, Any] = field(default_factory=dict)  # data asset -> MonitorResult


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_frame(body: dict[str, Any]) -> Any:
    """The rows of a request in either orientation score.py accepts."""
    import pandas as pd

    data = body["input_data"]
    if isinstance(data, dict):
        return pd.DataFrame(data["data"], columns=data["columns"])
    return pd.DataFrame(data)


def smoke_test(server: online.LocalServer, model_dir: Path, requests: list[Path]) -> dict[str, int]:
    """Every sample request answers 200 with the predictions the model itself makes on those rows."""
    import mlflow

    folder = str(next(model_dir.rglob("MLmodel")).parent)
    model = mlflow.sklearn.load_model(folder)
    features = list(mlflow.models.Model.load(folder).signature.inputs.input_names())
    checked = {}
    for file in requests:
        status, answer = online.invoke(server.url, file.read_bytes())
        if status != 200:
            raise StepFailed(f"smoke test: {file.name} got HTTP {status}: {answer}")
        frame = request_frame(json.loads(file.read_text()))
        expected = [value.item() if hasattr(value, "item") else value for value in model.predict(frame[features])]
        if answer.get("predictions") != expected:
            raise StepFailed(
                f"smoke test: {file.name}: the endpoint predicted {answer.get('predictions')}, the model {expected}"
            )
        checked[file.name] = len(expected)
    return checked


def run_loop(
    layout: ModelLayout, overrides: list[str], *, force_rerun: bool = False, stream: bool = False, echo: Echo = print
) -> LoopResult:
    """Train the model, then serve its champion, score its production batches and monitor them."""
    training = submit(layout.pipeline, overrides, force_rerun=force_rerun, stream_logs=stream, echo=echo)
    result = LoopResult(training)
    model = layout.catalog.model(layout.name)
    result.model = model
    echo(f"serving {model} locally with the Azure ML inference server …")
    with online.deploy(layout, model, free_port()) as server:
        try:
            result.smoke_tests = smoke_test(server, materialize(layout.state, model), layout.sample_requests())
        except Interrupted as exc:  # the `with` stops the server on the way out
            exc.stopped.append(f"server pid {server.pid} stopped")
            raise
        result.collected = server.collect_dir
        echo(f"smoke test: {len(result.smoke_tests)} sample request(s) answered, predictions equal the model's own")
    settings = batch.BatchSettings.from_yaml(layout.batch_deployment)
    for reference in layout.definition.production_batches:
        asset = layout.catalog.data(reference)
        out = layout.state.batch / training.run_id / asset.name
        summary = batch.invoke(
            settings, materialize(layout.state, model), asset.path, out, out / "logs" / "worker.log", echo=echo
        )
        if summary.output is not None:
            result.batch_outputs[asset.name] = summary.output
    monitor_batches(layout, result, echo)
    return result


def monitor_batches(layout: ModelLayout, result: LoopResult, echo: Echo) -> None:
    """Monitor each scored batch against the training data. With a drift manifest (the sample data's), the run
    also proves the monitor right: a batch breaches data drift on exactly the features the manifest says the
    generator drifted, and the others on none."""
    manifest = json.loads(layout.drift_manifest.read_text()) if layout.drift_manifest else None
    for reference in layout.definition.production_batches:
        asset = layout.catalog.data(reference)
        window = monitor.batch_window(layout.project, asset.path, result.batch_outputs.get(asset.name), asset.name)
        outcome = monitor.run(layout, window)
        echo(outcome.summary())
        result.monitoring[asset.name] = outcome
        if manifest is None:
            continue
        drifted = set(outcome.breached_signals.get("data_drift", []))
        expected = set(manifest["drifted_features"]) if asset.path.name == manifest["drifted_file"] else set()
        if drifted != expected:
            raise StepFailed(
                f"monitoring {asset.name}: data drift on {sorted(drifted) or 'no feature'}, but the sample data "
                f"drifted {sorted(expected) or 'no feature'} ({layout.relative(layout.drift_manifest)})"
            )


def summary(result: LoopResult) -> str:
    lines = [training_summary(result.training.outputs, result.training.state.root, result.training.run_dir)]
    if result.model:
        checked = ", ".join(f"{name} ({rows} rows)" for name, rows in result.smoke_tests.items())
        lines.append(f"served {result.model} on 127.0.0.1 (stopped): smoke-tested {checked}")
    if result.collected:
        lines.append(f"collected inference data: {result.collected}")
    for name, path in result.batch_outputs.items():
        lines.append(f"batch predictions ({name}): {path}")
    for name, outcome in result.monitoring.items():
        verdict = "; ".join(f"{s}: {', '.join(f)}" for s, f in outcome.breached_signals.items()) or "no breach"
        lines.append(f"monitoring ({name}): {verdict}; report {outcome.report_html}")
    return "\n".join(lines)


def training_summary(outputs: dict[str, Path], state_root: Path, run_dir: Path) -> str:
    """Metrics, the gate's decision, the registered version and where everything is (the run's one page first)."""
    lines = []
    evaluation = outputs.get("evaluation")
    if evaluation and (evaluation / "metrics.json").is_file():
        metrics = json.loads((evaluation / "metrics.json").read_text())
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, int | float))
        lines.append(f"metrics (test split): {shown}")
    if evaluation and (evaluation / "decision.json").is_file():
        decision = json.loads((evaluation / "decision.json").read_text())
        lines.append(f"gate ({decision.get('mode')}): {decision.get('reason')}")
    registration = outputs.get("registration")
    if registration and (registration / "registration.json").is_file():
        info = json.loads((registration / "registration.json").read_text())
        if info.get("registered"):
            lines.append(f"registered: {info['model_name']} version {info['version']} (champion)")
        else:
            lines.append("not registered: the gate said no (reason above); the champion stays")
    insights = outputs.get("insights")
    if insights and (insights / "report.html").is_file():
        lines.append(f"responsible AI report: {insights / 'report.html'}")
    if (run_dir / REPORT_FILE).is_file():
        lines.append(f"run report: {run_dir / REPORT_FILE}")
    lines += [
        f"run folder: {run_dir}",
        f"local state: {state_root} (delete it for a clean slate)",
        f"MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///{state_root / 'mlflow.db'} --port 5000",
    ]
    return "\n".join(lines)
