"""`mlops init`: bring your own table. Infer a model definition from it, split off a held-out production window,
write the data, the definition and every Azure ML YAML the model needs, calibrate the monitor on the window, and
say what to run next.

What it writes for a model `<name>` (nothing is overwritten without --force; every file is written whole):
- data: `data/<name>/training/` (an MLTable folder), `data/<name>/production.csv` (the held-out rows without the
  target), `data/<name>/ground-truth.csv` (their id and target), and their data asset YAML `data/<name>-*.yml`;
- `models/<name>.yml`, `pipelines/<name>.yml`, `endpoints/<name>/{online,batch}/`, `monitoring/<name>.yml`
  (templates/model/, rendered by `mlops.project.templates`);
- `endpoints/<name>/online/sample-request.json` (split orientation) and `sample-request-records.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlops.authoring.calibrate import calibrated, quick_predictions
from mlops.authoring.infer import infer, split_production
from mlops.errors import MlopsError
from mlops.project.layout import Layout
from mlops.project.model import ModelDefinition
from mlops.project.templates import new_model_files, render_model, write_files
from mlops.targets.local.tables import read_table

NAME = re.compile(r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$")
SAMPLE_ROWS = 5
DEFAULT_HOLDOUT = 0.2
DEFAULT_SEED = 42
MIN_IMPROVEMENT = 0.002

Echo = Callable[[str], None]


@dataclass
class InitResult:
    definition: ModelDefinition
    written: list[Path]
    reasons: list[str]


def init_model(
    layout: Layout,
    table: Path,
    target: str,
    *,
    name: str,
    given: dict[str, Any] | None = None,
    holdout: float = DEFAULT_HOLDOUT,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    echo: Echo = print,
) -> InitResult:
    if not NAME.match(name):
        raise MlopsError(
            f"--name {name!r}: use 3-24 lowercase letters, digits and hyphens, starting with a letter (the online "
            "endpoint is <name>-endpoint, and Azure endpoint names are at most 32 characters)"
        )
    frame = read_table(layout, table.resolve())
    inference = infer(frame, target, given or {})
    for reason in inference.reasons:
        echo(f"  {reason}")
    values = inference.values
    training, production = split_production(frame, holdout, seed)
    echo(
        f"  production window: {len(production)} of {len(frame)} rows held out (seed {seed}); {len(training)} to train"
    )

    definition = ModelDefinition(
        name=name,
        task=values["task"],
        target=target,
        id_column=values["id_column"],
        numeric_features=values["numeric_features"],
        categorical_features=values["categorical_features"],
        training_data=f"azureml:{name}-training:1",
        primary_metric=values["primary_metric"],
        min_metric=values["min_metric"],
        min_improvement=MIN_IMPROVEMENT,
        online_endpoint=f"{name}-endpoint",
        live_deployment="blue",
        batch_endpoint=f"{name}-batch",
        files=new_model_files(name),
        source=layout.models / f"{name}.yml",
        positive_label=values.get("positive_label"),
        sensitive_feature=values.get("sensitive_feature"),
        production_batches=[f"azureml:{name}-production:1"],
        ground_truth=f"azureml:{name}-ground-truth:1",
    )
    features = definition.features
    columns = [definition.id_column, *features]
    data_files = {
        Path("data") / name / "training" / "training.csv": _csv(training[[*columns, target]]),
        Path("data") / name / "production.csv": _csv(production[columns]),
        Path("data") / name / "ground-truth.csv": _csv(production[[definition.id_column, target]]),
    }
    online = Path(definition.files.online)
    sample = production[columns].head(SAMPLE_ROWS)
    data_files[online / "sample-request.json"] = _json({"input_data": json.loads(sample.to_json(orient="split"))})
    data_files[online / "sample-request-records.json"] = _json(
        {"input_data": json.loads(sample.to_json(orient="records"))}
    )

    rendered = render_model(layout.root, definition)
    thresholds = _calibrate(layout, definition, rendered, training, production, echo)
    rendered = render_model(layout.root, definition, thresholds=thresholds)
    written = write_files(layout.root, {**data_files, **rendered}, force=force)
    return InitResult(definition, written, inference.reasons)


def _calibrate(
    layout: Layout,
    definition: ModelDefinition,
    rendered: dict[Path, str],
    training: pd.DataFrame,
    production: pd.DataFrame,
    echo: Echo,
) -> dict[str, Any]:
    """Every signal of the rendered monitor run on the held-out window (scored by a quick model); thresholds moved
    just past what the window shows (mlops.authoring.calibrate)."""
    import tempfile

    from mlops.monitoring.config import load_config
    from mlops.monitoring.monitor import evaluate_window
    from mlops.monitoring.signals import WindowData

    with tempfile.TemporaryDirectory(prefix="mlops-init-") as scratch:
        monitor = Path(scratch) / "monitor.yml"
        monitor.write_text(rendered[Path(definition.files.monitor)], encoding="utf-8")
        config = load_config(monitor)
    (predictions,) = quick_predictions(
        training,
        [production],
        definition.features,
        definition.target,
        definition.task,
        definition.id_column,
        definition.positive_label,
    )
    window = WindowData(
        reference=training,
        production=production[[definition.id_column, *definition.features]],
        predictions=predictions,
        ground_truth=production[[definition.id_column, definition.target]],
        id_column=definition.id_column,
    )
    thresholds = {}
    for result in evaluate_window(config, window):
        signal = config.signals[result.name]
        if signal.thresholds or signal.numerical or signal.categorical:
            thresholds[result.name] = calibrated(signal, result, config.ml_task)
    echo(f"  monitor thresholds: calibrated on the held-out window with a quick model ({len(thresholds)} signals)")
    return thresholds


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def _json(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"
