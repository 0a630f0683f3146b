"""`mlops run`: the whole loop on the local target, on the sample data.

train (pipelines/train.yml) -> serve the champion with the Azure inference server on 127.0.0.1 -> smoke-test it
with the sample requests (no errors; predictions equal the model's own `predict`) -> batch-score the production
batches with the batch deployment's script -> monitor both batches against the training data (the drifted one
must breach on exactly the drifted features) -> say where everything is.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops import batch, monitor_run, serving
from mlops.assets import DataCatalog
from mlops.errors import StepFailed
from mlops.executor import PipelineRun, run_pipeline
from mlops.project import TRAIN_PIPELINE

ONLINE_DIR = Path("endpoints") / "online"
BATCH_DEPLOYMENT = Path("endpoints") / "batch" / "deployment.yml"
# Production batches scored by the loop, by data asset (data/*.yml).
DRIFT_MANIFEST = Path("data") / "production" / "drift.json"
PRODUCTION_BATCHES = ("azureml:diabetes-production-baseline@latest", "azureml:diabetes-production-drifted@latest")

Echo = Callable[[str], None]


@dataclass
class LoopResult:
    training: PipelineRun
    model: serving.ModelRef | None = None
    smoke_tests: dict[str, int] = field(default_factory=dict)  # request file -> rows checked
    batch_outputs: dict[str, Path] = field(default_factory=dict)  # data asset -> predictions file
    collected: Path | None = None
    monitoring: dict[str, Any] = field(default_factory=dict)  # data asset -> MonitorResult


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sample_requests(root: Path) -> list[Path]:
    return sorted((root / ONLINE_DIR).glob("sample-request*.json"))


def request_frame(body: dict[str, Any]) -> Any:
    """The rows of a request in either orientation score.py accepts."""
    import pandas as pd

    data = body["input_data"]
    if isinstance(data, dict):
        return pd.DataFrame(data["data"], columns=data["columns"])
    return pd.DataFrame(data)


def smoke_test(server: serving.LocalServer, model_dir: Path, requests: list[Path]) -> dict[str, int]:
    """Every sample request answers 200 with the predictions the model itself makes on those rows."""
    import mlflow

    folder = str(next(model_dir.rglob("MLmodel")).parent)
    model = mlflow.sklearn.load_model(folder)
    features = list(mlflow.models.Model.load(folder).signature.inputs.input_names())
    checked = {}
    for file in requests:
        status, answer = serving.invoke(server.url, file.read_bytes())
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
    root: Path, overrides: list[str], *, force_rerun: bool = False, stream: bool = False, echo: Echo = print
) -> LoopResult:
    training = run_pipeline(root / TRAIN_PIPELINE, overrides, force_rerun=force_rerun, stream_logs=stream, echo=echo)
    result = LoopResult(training)
    state = training.state
    model = serving.resolve_model(state, serving.default_model_name(root))
    result.model = model
    echo(f"serving {model} locally with the Azure ML inference server …")
    with serving.start_server(root, state, model, free_port()) as server:
        result.smoke_tests = smoke_test(server, serving.materialize(state, model), sample_requests(root))
        result.collected = server.collect_dir
        echo(f"smoke test: {len(result.smoke_tests)} sample request(s) answered, predictions equal the model's own")
    settings = batch.BatchSettings.from_yaml(root / BATCH_DEPLOYMENT)
    catalog = DataCatalog.from_folder(root / "data")
    for reference in PRODUCTION_BATCHES:
        asset = catalog.resolve(reference)
        out = state.root / "batch" / training.run_id / asset.name
        summary = batch.run_batch(
            settings, serving.materialize(state, model), asset.path, out, out / "logs" / "worker.log", echo=echo
        )
        if summary.output is not None:
            result.batch_outputs[asset.name] = summary.output
    monitor_batches(root, result, catalog, echo)
    return result


def monitor_batches(root: Path, result: LoopResult, catalog: DataCatalog, echo: Echo) -> None:
    """Monitor each scored batch against the training data; the end-to-end proof of the sample data: the baseline
    batch breaches nothing, the drifted one breaches data drift on exactly the features data/production/drift.json
    says the generator drifted."""
    manifest = json.loads((root / DRIFT_MANIFEST).read_text())
    for reference in PRODUCTION_BATCHES:
        asset = catalog.resolve(reference)
        window = monitor_run.batch_window(asset.path, result.batch_outputs.get(asset.name), asset.name)
        outcome = monitor_run.monitor_window(root, result.training.state, window)
        echo(outcome.summary())
        result.monitoring[asset.name] = outcome
        drifted = set(outcome.breached_signals.get("data_drift", []))
        expected = set(manifest["drifted_features"]) if asset.path.name == manifest["drifted_file"] else set()
        if drifted != expected:
            raise StepFailed(
                f"monitoring {asset.name}: data drift on {sorted(drifted) or 'no feature'}, but the sample data "
                f"drifted {sorted(expected) or 'no feature'} ({DRIFT_MANIFEST})"
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
    """Metrics, the gate's decision, the registered version and where everything is."""
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
    lines += [
        f"run folder: {run_dir}",
        f"local state: {state_root} (delete it for a clean slate)",
        f"MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///{state_root / 'mlflow.db'} --port 5000",
    ]
    return "\n".join(lines)
