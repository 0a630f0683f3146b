"""The entry point: run the monitor of monitoring/monitor.yml on one window of data, locally.

Each signal runs as its kind in the registry says (kinds.py); the report then renders the results."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mlops.monitoring.config import load_config
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.history import append_history, counts, read_history, retrain_flags, should_retrain
from mlops.monitoring.kinds import SIGNAL_KINDS
from mlops.monitoring.report import write_html, write_json
from mlops.monitoring.results import InputLines, MonitorResult, RetrainDecision, SignalResult
from mlops.monitoring.settings import MonitorConfig, SignalConfig
from mlops.monitoring.signals import WindowData
from mlops.progress import Progress

LARGE_WINDOW_ROWS = 200_000  # above: progress from the first signal on (the signals take seconds each)
PROGRESS_DELAY_S = 2.0  # a smaller window shows progress only once it has run this long


def run_signal(signal: SignalConfig, config: MonitorConfig, data: WindowData) -> SignalResult:
    """One signal on one window, computed as its kind says; each metric alerts the way the kind gives it."""
    kind = SIGNAL_KINDS[signal.type]
    result = SignalResult(signal.name, signal.type, signal.alert_enabled, plot=kind.plot)
    kind.compute(signal, config, data, result)
    for feature in result.features:
        for metric in feature.metrics:
            metric.direction = kind.directions[metric.metric]
    return result


def evaluate_window(config: MonitorConfig, data: WindowData) -> list[SignalResult]:
    """Every signal of the monitor on this window, in the order of the YAML. A large window (more than
    `LARGE_WINDOW_ROWS` rows on either side) shows a progress line per signal on stderr from the start, a smaller
    one only once it has run `PROGRESS_DELAY_S` seconds."""
    signals = list(config.signals.values())
    large = max(len(data.reference), len(data.production)) > LARGE_WINDOW_ROWS
    results: list[SignalResult] = []
    # interval 0: a line for every signal (a handful), not one per 10 s
    with Progress(
        f"monitor {config.name}", len(signals), "signal", interval=0, delay=0 if large else PROGRESS_DELAY_S
    ) as progress:
        for signal in signals:
            started = time.monotonic()
            results.append(run_signal(signal, config, data))
            progress.advance(note=f"{signal.name} took {time.monotonic() - started:.1f} s")
    return results


def _check_frame(frame: object, what: str, window_name: str, *, allow_empty: bool = False) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise MonitorInputError(
            f"{what} for window '{window_name}': expected a pandas DataFrame, got {type(frame).__name__}"
        )
    if not allow_empty and len(frame) == 0:
        raise MonitorInputError(f"{what} for window '{window_name}' has no rows: nothing to monitor")
    if frame.columns.has_duplicates:
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise MonitorInputError(f"{what} for window '{window_name}': duplicate column(s) {', '.join(duplicated)}")
    found = first_non_scalar(frame)
    if found is not None:
        column, row, kind = found
        raise MonitorInputError(
            f"{what} for window '{window_name}': column '{column}' holds a {kind} in row {row + 1}; expected "
            "numbers, text, booleans or nulls"
        )


# What pandas' infer_dtype says of an object column that holds scalars only; other answers ("mixed", ...) are
# looked at value by value.
_SCALAR_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "decimal", "boolean", "bytes"}


def first_non_scalar(frame: pd.DataFrame) -> tuple[str, int, str] | None:
    """(column, row position, type name) of the first value that is not a scalar (a dict, list, ...), or None.

    Only object columns can hold one; a column of plain text or numbers is told apart in C by infer_dtype."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _SCALAR_KINDS:
            continue
        for row, value in enumerate(values.to_numpy()):
            if not pd.api.types.is_scalar(value):
                return str(column), row, type(value).__name__
    return None


def run_monitor(
    config_path: Path | str,
    reference: pd.DataFrame,
    production: pd.DataFrame,
    *,
    predictions: pd.DataFrame | None = None,
    ground_truth: pd.DataFrame | None = None,
    reference_predictions: pd.DataFrame | None = None,
    id_column: str | None = None,
    out_dir: Path | str,
    history_dir: Path | str,
    window_name: str,
    timestamp: datetime | None = None,
    input_lines: InputLines | None = None,
    operational: object | None = None,
) -> MonitorResult:
    """Run every signal of the monitor YAML on one production window and decide whether to retrain.

    - `reference`: the reference data (for this template the training data, `azureml:diabetes-training:1`);
    - `production`: the window's model inputs (what the deployment's data collector stores as model_inputs);
    - `predictions`: the window's model outputs, one row per request row, with the id column and the columns the
      YAML names in `data_column_names` (`prediction`, optionally `prediction_probability`); needed by
      prediction_drift, feature_attribution_drift and model_performance (skipped without it);
    - `ground_truth`: id column + the `actual` column, for model_performance;
    - `reference_predictions`: optional model outputs on the reference data; without them the reference side of
      prediction drift and feature attribution drift is the reference's `target_column`, as the YAML declares;
    - `id_column`: joins predictions to inputs and ground truth; default: the YAML's `correlation_id`;
    - `input_lines`: what the reader of collected JSON lines read and skipped, for the report;
    - `operational`: the endpoint's operational metrics (`operational.OperationalReport`), reported alongside.

    A signal computed on fewer rows than its minimum (`mlops.min_window_rows`), or a prediction-based one when too
    few inputs have a prediction (`mlops.min_prediction_coverage`), is "not enough data": no breach, and a window
    none of whose retrain signals could be judged does not count towards the retrain rule.

    Writes `report.json` and `report.html` into `out_dir`, appends a line to the history file in `history_dir`,
    and returns the result (`.breached`, `.breached_signals`, `.retrain`, `.summary()`). Bad input raises
    `MonitorInputError` naming the file, field or column.
    """
    config = load_config(config_path)
    _check_frame(reference, "the reference data", window_name)
    _check_frame(production, "the production data", window_name)
    for frame, what in (
        (predictions, "the predictions"),
        (ground_truth, "the ground truth"),
        (reference_predictions, "the reference predictions"),
    ):
        if frame is not None:
            _check_frame(frame, what, window_name, allow_empty=True)
    data = WindowData(reference, production, predictions, ground_truth, reference_predictions, id_column)
    result = MonitorResult(
        monitor=config.name,
        window=window_name,
        timestamp=timestamp or datetime.now(UTC),
        signals=evaluate_window(config, data),
        warnings=list(config.warnings),
        input_lines=input_lines,
        operational=operational,
    )

    rule = config.retrain
    evaluated = [s.name for s in result.signals if s.evaluated]
    # A re-run of a window replaces its earlier verdict: the same data must not count twice towards M of N.
    earlier = [entry for entry in read_history(history_dir, config.name) if entry.get("window") != window_name]
    flags = retrain_flags(earlier, rule.signals)
    latest_counted = counts({"evaluated_signals": evaluated}, rule.signals)
    if latest_counted:
        flags.append(any(name in result.breached_signals for name in rule.signals))
    considered = flags[-rule.last_runs :]
    result.retrain = RetrainDecision(
        retrain=latest_counted and should_retrain(flags, rule.min_breached, rule.last_runs),
        breached_windows=sum(considered),
        considered_windows=len(considered),
        min_breached=rule.min_breached,
        last_runs=rule.last_runs,
        signals=rule.signals,
        latest_breached=latest_counted and considered[-1],
        latest_counted=latest_counted,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.report_json = write_json(result, out)
    result.report_html = write_html(result, out)
    result.history_file = append_history(
        history_dir,
        {
            "timestamp": result.timestamp.isoformat(),
            "monitor": result.monitor,
            "window": result.window,
            "breached": result.breached,
            "breached_signals": result.breached_signals,
            "evaluated_signals": evaluated,
            "retrain": result.retrain.retrain,
        },
    )
    return result
