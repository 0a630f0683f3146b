"""`mlops monitor`: feed the local monitor (mlops.monitoring) from files, or create the monitor on Azure.

The reference data and the ground truth are the data assets monitoring/monitor.yml names (resolved from
data/*.yml, like every `azureml:` reference locally). A window's production data is either a data-collector tree
(`model_inputs/` + `model_outputs/` JSON lines, as the online deployment collects them) or a batch: the scored input
file plus the batch deployment's predictions file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlops import project
from mlops.assets import DataCatalog
from mlops.errors import MlopsError
from mlops.project import StateDir
from mlops.tables import read_collected, read_table

DEFAULT_CONFIG = Path("monitoring") / "monitor.yml"


@dataclass
class Window:
    name: str
    production: pd.DataFrame
    predictions: pd.DataFrame | None = None


def collected_window(folder: Path, name: str) -> Window:
    return Window(name, read_collected(folder, "model_inputs"), read_collected(folder, "model_outputs"))


def batch_window(production: Path, predictions: Path | None, name: str) -> Window:
    return Window(name, read_table(production), read_table(predictions) if predictions else None)


def _asset_frame(root: Path, reference: str | None, what: str) -> pd.DataFrame | None:
    if not reference:
        return None
    if not reference.startswith("azureml:"):
        raise MlopsError(f"{what}: {reference!r}: the local monitor reads azureml:<name>:<version> data assets")
    return read_table(DataCatalog.from_folder(root / "data").resolve(reference).path)


def _reference_paths(config: Any) -> tuple[str | None, str | None]:
    """(reference data, ground truth) as the monitor YAML names them."""
    reference = ground_truth = None
    for signal in config.signals.values():
        path = signal.reference.path if signal.reference else None
        if signal.type == "model_performance":
            ground_truth = ground_truth or path
        elif signal.type in ("data_drift", "data_quality"):
            reference = reference or path
    return reference, ground_truth


def monitor_window(
    root: Path,
    state: StateDir,
    window: Window,
    *,
    config_path: Path | None = None,
    ground_truth: Path | None = None,
    history_dir: Path | None = None,
) -> Any:
    """Run every signal of the monitor YAML on one window; writes report.json/html under
    .mlops/monitoring/<window>/<timestamp>/ and appends to the history the retrain rule reads."""
    from mlops.monitoring import load_config, run_monitor

    config_path = config_path or root / DEFAULT_CONFIG
    config = load_config(config_path)
    reference_ref, truth_ref = _reference_paths(config)
    reference = _asset_frame(root, reference_ref, f"{config_path}: reference_data")
    if reference is None:
        raise MlopsError(f"{config_path}: no signal names reference_data for the local monitor to compare against")
    truth = read_table(ground_truth) if ground_truth else _asset_frame(root, truth_ref, f"{config_path}: ground truth")
    now = datetime.now(UTC)
    return run_monitor(
        config_path,
        reference,
        window.production,
        predictions=window.predictions,
        ground_truth=truth,
        out_dir=state.root / "monitoring" / window.name / now.strftime("%Y%m%dT%H%M%S%f"),
        history_dir=history_dir or state.root / "monitoring" / "history",
        window_name=window.name,
        timestamp=now,
    )


def write_github_outputs(result: Any) -> None:
    """In GitHub Actions, expose the verdict as step outputs (the workflow decides nothing itself)."""
    project.write_github_outputs(
        {
            "breached": "true" if result.breached else "false",
            "retrain": "true" if result.retrain.retrain else "false",
            "report": str(result.report_html),
        }
    )
