"""The local monitor: feed `mlops.monitoring` from files (the twin of `targets.azure.monitor`, which creates the
same monitor as a schedule in the workspace).

The reference data and the ground truth are the data assets the monitor YAML names (resolved by the local
catalog, like every `azureml:` reference locally). A window's production data is either a data-collector tree
(`model_inputs/` + `model_outputs/` JSON lines, as the online deployment collects them; malformed lines are skipped
up to the monitor's `mlops.max_malformed_share`, see `mlops.monitoring.collected`) or a batch: the scored input
file plus the batch deployment's predictions file.

The endpoint's operational records (`operational/` next to the data collections: status, latency, rows per request)
are read from the same folders for the report's operations section, or alone by `operations_only`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlops import github
from mlops.errors import MlopsError
from mlops.project.layout import Layout, ModelLayout
from mlops.project.references import is_asset_ref
from mlops.targets.local.tables import read_table

if TYPE_CHECKING:  # the monitor imports scipy: loaded when a window is read, not with the CLI
    from mlops.monitoring.collected import Collection
    from mlops.monitoring.operational import OperationalReport, Thresholds


@dataclass
class Window:
    name: str
    production: pd.DataFrame
    predictions: pd.DataFrame | None = None
    # the collections read from JSON lines (with the lines they skipped); empty for a batch
    collections: tuple[Collection, ...] = ()


def collected_window(folder: Path, name: str) -> Window:
    """A data-collector tree; malformed lines are skipped here and judged against the monitor's limit in `run`."""
    from mlops.monitoring.collected import read_collection

    inputs, outputs = read_collection(folder, "model_inputs"), read_collection(folder, "model_outputs")
    return Window(name, inputs.frame, outputs.frame, (inputs, outputs))


def batch_window(layout: Layout, production: Path, predictions: Path | None, name: str) -> Window:
    return Window(name, read_table(layout, production), read_table(layout, predictions) if predictions else None)


def _asset_frame(layout: Layout, reference: str | None, what: str) -> pd.DataFrame | None:
    if not reference:
        return None
    if not is_asset_ref(reference):
        raise MlopsError(f"{what}: {reference!r}: the local monitor reads azureml:<name>:<version> data assets")
    return read_table(layout, layout.catalog.data(reference, what).path)


def run(
    layout: ModelLayout,
    window: Window,
    *,
    config_path: Path | None = None,
    ground_truth: Path | None = None,
    history_dir: Path | None = None,
    operational: OperationalReport | None = None,
) -> Any:
    """Run every signal of the model's monitor YAML (or `config_path`) on one window; writes report.json/html under
    <state>/monitoring/<model>/<window>/<timestamp>/ and appends to the model's history, which the retrain rule
    reads."""
    from mlops.monitoring import load_config, reference_assets, run_monitor
    from mlops.monitoring.collected import check_malformed
    from mlops.monitoring.results import InputLines
    from mlops.monitoring.trends import write_history_page

    config_path = config_path or layout.monitor_config
    config = load_config(config_path)
    for collection in window.collections:
        check_malformed(collection, config.window.max_malformed_share)
    input_lines = (
        InputLines(sum(c.lines for c in window.collections), tuple(m for c in window.collections for m in c.malformed))
        if window.collections
        else None
    )
    reference_ref, truth_ref = reference_assets(config)
    reference = _asset_frame(layout.project, reference_ref, f"{config_path}: reference_data")
    if reference is None:
        raise MlopsError(f"{config_path}: no signal names reference_data for the local monitor to compare against")
    truth = (
        read_table(layout.project, ground_truth)
        if ground_truth
        else _asset_frame(layout.project, truth_ref, f"{config_path}: ground truth")
    )
    now = datetime.now(UTC)
    history_dir = history_dir or history_folder(layout)
    result = run_monitor(
        config_path,
        reference,
        window.production,
        predictions=window.predictions,
        ground_truth=truth,
        out_dir=_report_folder(layout, window.name, now),
        history_dir=history_dir,
        window_name=window.name,
        timestamp=now,
        input_lines=input_lines,
        operational=operational,
    )
    result.history_html = write_history_page(history_dir, config, reports_folder(layout))
    return result


def history_folder(layout: ModelLayout) -> Path:
    """Where the local monitor keeps the model's history (the retrain rule's input) and its history page."""
    return layout.state.monitor_history / layout.name


def reports_folder(layout: ModelLayout) -> Path:
    """Where the local monitor writes the model's reports: <window>/<time>/report.{json,html} below it."""
    return layout.state.monitoring / layout.name


def operational_report(folders: list[Path], thresholds: Thresholds, config_path: Path) -> OperationalReport:
    """The operational records under `folders`, refused when more of their lines are malformed than the monitor
    YAML's `mlops.max_malformed_share` allows."""
    from mlops.monitoring import load_config
    from mlops.monitoring.operational import OperationalReport, check_malformed, read_operational

    log = read_operational(folders)
    check_malformed(log, load_config(config_path).window.max_malformed_share)
    return OperationalReport(log, thresholds)


def operations_only(layout: ModelLayout, report: OperationalReport, window: str) -> Path:
    """Write the operational report alone as operations.json under the window's report folder; returns its path."""
    import json

    folder = _report_folder(layout, window, datetime.now(UTC))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "operations.json"
    path.write_text(json.dumps({"window": window, **report.to_dict()}, indent=2, allow_nan=False) + "\n")
    return path


def _report_folder(layout: ModelLayout, window: str, now: datetime) -> Path:
    return reports_folder(layout) / window / now.strftime("%Y%m%dT%H%M%S%f")


def write_github_outputs(result: Any) -> None:
    """In GitHub Actions, expose the verdict as step outputs (the workflow decides nothing itself)."""
    github.write_outputs(
        {
            "breached": "true" if result.breached else "false",
            "retrain": "true" if result.retrain.retrain else "false",
            "report": str(result.report_html),
        }
    )
