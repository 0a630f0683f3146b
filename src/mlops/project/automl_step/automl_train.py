"""automl_local: what the local target runs for an Azure ML AutoML job or step (classification, regression).

FLAML searches the learners Azure's algorithm names map to, within the job's limits, optimising Azure's primary
metric on Azure's validation scheme (validation_data, validation_data_size, n_cross_validations, or Azure's
default: 10% holdout above 20,000 rows, else cross-validation with 3 folds, 10 under 1,000 rows). The best
configuration is refitted on all the training rows behind the template's preprocessing (featurization `auto`) and
saved as an MLflow model with a signature and the metadata train_model writes, so evaluate, register and scoring
take it unchanged. Each trial is a child run of the step's run (learner, configuration, metric), as on Azure.

Columns: every column but the target is a feature; numeric dtypes are numeric, others categorical; a column whose
every value is distinct and not a float (an identifier) or that is empty is dropped, and the log says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from automl_metrics import CLASSIFICATION, REGRESSION
from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.features import build_preprocessor
from tabular_common.io import read_table
from tabular_common.metrics import score_model
from tabular_common.model_info import model_metadata, pinned
from tabular_common.schema import ColumnSpec, resolve_positive_label, validate_frame

AZURE_CV_ROWS = 20_000  # above: a 10% holdout; at or below: cross-validation
PACKAGES = {"lgbm": "lightgbm", "xgboost": "xgboost-cpu"}  # learners whose models need their package to load
BASE_REQUIREMENTS = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")
# Seconds between the progress lines the search prints (its output is a log, not a terminal); the local engine's
# MLOPS_PROGRESS_INTERVAL, when set, reaches the step and overrides it.
PROGRESS_INTERVAL_S = 10.0
PROGRESS_INTERVAL_ENV = "MLOPS_PROGRESS_INTERVAL"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training_data", required=True)
    parser.add_argument("--validation_data")
    parser.add_argument("--task", required=True, choices=["classification", "regression", "forecasting"])
    parser.add_argument("--primary_metric", required=True)
    parser.add_argument("--target_column_name", required=True)
    parser.add_argument("--positive_label")
    parser.add_argument("--learners", required=True, help="comma-separated FLAML learners")
    parser.add_argument("--timeout_minutes", type=int, required=True)
    parser.add_argument("--trial_timeout_minutes", type=int)
    parser.add_argument("--max_trials", type=int, required=True)
    parser.add_argument("--early_termination", type=_boolean, required=True)
    parser.add_argument("--validation", required=True, help="auto, size:<fraction>, cv:<folds> or data")
    parser.add_argument("--featurization", required=True, choices=["auto", "off"])
    parser.add_argument("--notes")
    parser.add_argument("--time_column_name")
    parser.add_argument("--forecast_horizon", type=int)
    parser.add_argument("--frequency")
    parser.add_argument("--best_model", required=True)
    return parser


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise DataError(f"expected true or false, got {text!r}")
    return text.lower() == "true"


def column_roles(frame: pd.DataFrame, target: str, source: str) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, dropped with the reason) for the features of `frame`: every column but the target."""
    if target not in frame.columns:
        raise DataError(
            f"target_column_name: '{target}' is not a column of {source}; columns: {', '.join(frame.columns)}"
        )
    numeric, categorical, dropped = [], [], []
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        if column.isna().all():
            dropped.append(f"{name} (empty)")
        elif column.nunique() == len(column) and len(column) > 1 and not pd.api.types.is_float_dtype(column):
            dropped.append(f"{name} (an identifier: every value distinct)")
        elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            numeric.append(name)
        else:
            categorical.append(name)
    if not numeric and not categorical:
        raise DataError(f"{source}: no feature columns left besides the target '{target}'")
    return numeric, categorical, dropped


def evaluation(args: Any, rows: int) -> tuple[dict[str, Any], str]:
    """FLAML's evaluation settings for Azure's validation scheme, and a description for the log."""
    kind, _, value = args.validation.partition(":")
    if kind == "data":
        return {"eval_method": "holdout"}, "the validation_data table"
    if kind == "size":
        return {"eval_method": "holdout", "split_ratio": float(value)}, f"a {float(value):.0%} holdout"
    if kind == "cv":
        return {"eval_method": "cv", "n_splits": int(value)}, f"{int(value)}-fold cross-validation"
    if rows > AZURE_CV_ROWS:
        return {"eval_method": "holdout", "split_ratio": 0.1}, "a 10% holdout (Azure's default above 20,000 rows)"
    folds = 10 if rows < 1000 else 3
    return {"eval_method": "cv", "n_splits": folds}, f"{folds}-fold cross-validation (Azure's default for {rows} rows)"


def flaml_metric(task: str, name: str) -> Any:
    """A FLAML custom metric: (loss to minimise, the metric by Azure's name to log). Forecasting is scored with
    the regression metrics, as Azure does."""
    table = CLASSIFICATION if task == "classification" else REGRESSION
    if name not in table:
        raise DataError(f"primary_metric: {name} is not a {task} metric; expected one of {', '.join(table)}")
    function, higher_is_better = table[name]

    def metric(x_val, y_val, estimator, *_args, **_kwargs):  # FLAML's custom-metric signature
        predicted = estimator.predict_proba(x_val) if task == "classification" else estimator.predict(x_val)
        if y_val is None:  # forecasting: FLAML hands over a TimeSeriesDataset, the truth in its test part
            y_val = x_val.test_data[x_val.target_names].to_numpy().ravel()
        predicted = np.asarray(predicted) if task == "classification" else np.asarray(predicted).ravel()
        value = function(np.asarray(y_val), predicted)
        return (-value if higher_is_better else value), {name: value}

    return metric


def search(args: Any, data: dict[str, Any], settings: dict[str, Any], described: str, log: Path) -> Any:
    """FLAML over `data` (X_train/y_train, or dataframe/label for forecasting) within the job's limits."""
    from flaml import AutoML

    print(f"automl_local: {args.max_trials} trials at most, {args.timeout_minutes} min budget; {described}")
    automl = AutoML()
    if args.trial_timeout_minutes:
        settings = {**settings, "train_time_limit": args.trial_timeout_minutes * 60}
    with warnings.catch_warnings(), progress_lines(log, args):
        warnings.simplefilter("ignore")
        automl.fit(
            **data,
            task="ts_forecast" if args.task == "forecasting" else args.task,
            metric=flaml_metric(args.task, args.primary_metric),
            estimator_list=args.learners.split(","),
            time_budget=args.timeout_minutes * 60,
            max_iter=args.max_trials,
            early_stop=args.early_termination,
            log_file_name=str(log),
            log_type="all",
            seed=0,
            n_jobs=os.cpu_count() or 1,
            verbose=0,
            mlflow_logging=False,
            **settings,
        )
    if automl.best_estimator is None:
        raise DataError(
            f"limits: no trial finished within timeout_minutes={args.timeout_minutes} / max_trials={args.max_trials}"
        )
    return automl


def trials(log: Path) -> list[dict[str, Any]]:
    """FLAML's per-trial records (learner, config, logged metric, validation loss, time). FLAML writes a line per
    trial as it ends; a line still being written (no newline yet) is left for the next read."""
    if not log.is_file():
        return []
    text = log.read_text()
    complete = text[: text.rfind("\n") + 1]
    records = [json.loads(line) for line in complete.splitlines() if line.strip().startswith("{")]
    return [record for record in records if record.get("learner")]  # FLAML ends with a summary record


def progress_interval() -> float:
    text = os.environ.get(PROGRESS_INTERVAL_ENV, "").strip()
    if not text:
        return PROGRESS_INTERVAL_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise DataError(f"{PROGRESS_INTERVAL_ENV}: expected a number of seconds >= 0, got {text!r}")
    return max(seconds, 0.1)  # 0 would spin


def progress_line(records: list[dict[str, Any]], args: Any, elapsed: float) -> str:
    """`automl_local: 3/20 trials, 41 s of the 15 min budget, best lgbm AUC_weighted 0.8312`: the trials FLAML
    finished, the time used, and the best trial so far (the lowest validation loss: what FLAML minimises)."""
    budget = f"{elapsed:.0f} s of the {args.timeout_minutes} min budget"
    line = f"automl_local: {len(records)}/{args.max_trials} trials, {budget}"
    best = min(records, key=lambda record: record.get("validation_loss", float("inf")), default=None)
    value = best and (best.get("logged_metric") or {}).get(args.primary_metric)
    if value is not None:
        line += f", best {best['learner']} {args.primary_metric} {float(value):.4f}"
    return line


def report_progress(
    log: Path, args: Any, stop: threading.Event, interval: float, clock: Callable[[], float] = time.monotonic
) -> None:
    """Until `stop` is set, a progress line every `interval` seconds, read from FLAML's training log (FLAML flushes
    a line per trial)."""
    started = clock()
    while not stop.wait(interval):
        print(progress_line(trials(log), args, clock() - started), flush=True)


@contextlib.contextmanager
def progress_lines(log: Path, args: Any) -> Iterator[None]:
    """Progress lines while the search runs, from a thread (FLAML's fit has no per-trial callback); the search's
    first line is `search`'s, its last `main`'s."""
    stop = threading.Event()
    thread = threading.Thread(target=report_progress, args=(log, args, stop, progress_interval()), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def refit(automl: Any, features: np.ndarray, target: pd.Series) -> Any:
    """The best configuration fitted on all rows, on the table's own labels (so `classes_` and predictions are
    the table's)."""
    from sklearn.base import clone

    model = clone(automl.model.estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(features, target)
    return model


def usable_learners(learners: str, classes: list[Any]) -> str:
    """XGBoost's classifier learns only the labels 0..k-1: with other labels it is left out (and the log says so)."""
    names = learners.split(",")
    if not classes or classes == list(range(len(classes))):
        return learners
    kept = [name for name in names if not name.startswith("xgb")]
    if len(kept) < len(names):
        print("automl_local: note: XGBoost left out (it learns only the labels 0..k-1; these are other labels)")
    if not kept:
        raise DataError("training.allowed_training_algorithms: XGBoost alone cannot learn these labels; allow another")
    return ",".join(kept)


def requirements(learner: str) -> list[str]:
    return pinned([*BASE_REQUIREMENTS, *([PACKAGES[learner]] if learner in PACKAGES else [])])


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    for note in filter(None, (args.notes or "").split(" | ")):
        print(f"automl_local: note: {note}")
    if args.task == "forecasting":
        forecast_main(args)
        return
    frame = read_table(args.training_data)
    numeric, categorical, dropped = column_roles(frame, args.target_column_name, args.training_data)
    if dropped:
        print(f"automl_local: dropped {', '.join(dropped)}")
    if args.featurization == "off" and categorical:
        raise DataError(
            f"featurization.mode: off needs numeric features; {', '.join(categorical)} are not numeric (use mode auto)"
        )
    spec = ColumnSpec.from_inputs(args.target_column_name, ",".join(numeric), ",".join(categorical), args.task)
    frame = validate_frame(frame, spec, source=str(args.training_data))
    x, y = frame[spec.features], frame[spec.target]
    classes = sorted(y.unique().tolist()) if args.task == "classification" else []
    args.learners = usable_learners(args.learners, classes)
    encode = {label: index for index, label in enumerate(classes)}
    y_search = y.map(encode).to_numpy() if classes else y.to_numpy(dtype=float)

    preprocess = build_preprocessor(spec.numeric, spec.categorical) if args.featurization == "auto" else None
    x_search = preprocess.fit_transform(x) if preprocess is not None else x.to_numpy(dtype=float)
    validation = None
    if args.validation == "data":
        if not args.validation_data:
            raise DataError("validation_data: expected an MLTable")
        held = validate_frame(read_table(args.validation_data), spec, source=str(args.validation_data))
        x_val = preprocess.transform(held[spec.features]) if preprocess else held[spec.features].to_numpy(dtype=float)
        unknown = set(held[spec.target]) - set(encode) if classes else set()
        if unknown:
            raise DataError(f"validation_data: {spec.target} has classes the training data lacks: {sorted(unknown)}")
        y_val = held[spec.target].map(encode).to_numpy() if classes else held[spec.target].to_numpy(dtype=float)
        validation = (x_val, y_val)

    import mlflow
    from sklearn.pipeline import Pipeline

    settings, described = evaluation(args, len(y_search))
    data = {"X_train": x_search, "y_train": y_search}
    if validation is not None:
        data |= {"X_val": validation[0], "y_val": validation[1]}
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run() as run:
        log = Path(scratch) / "trials.jsonl"
        automl = search(args, data, {**settings, "retrain_full": False}, described, log)
        model = refit(automl, x_search, y)
        pipeline = Pipeline([("preprocess", preprocess or "passthrough"), ("model", model)])
        records = trials(log)
        mlflow.log_params(
            {
                "task": args.task,
                "primary_metric": args.primary_metric,
                "learners": args.learners,
                "validation": args.validation,
                "featurization": args.featurization,
                "best_learner": automl.best_estimator,
                "numeric_features": ",".join(spec.numeric) or "none",
                "categorical_features": ",".join(spec.categorical) or "none",
            }
        )
        log_trials(records, args.primary_metric)
        best_value = best_metric(automl, args.primary_metric)
        positive = resolve_positive_label(classes, args.positive_label, spec.task, spec.target)
        training = score_model(pipeline, x, y, spec.task, positive)
        mlflow.log_metrics({args.primary_metric: best_value, **{f"training_{k}": v for k, v in training.items()}})
        mlflow.log_metric("automl_trials", len(records))
        output = Path(args.best_model)
        save(pipeline, x, output, run.info.run_id, spec, automl.best_estimator, positive)
        mlflow.log_artifacts(str(output), artifact_path="model")
    print(
        f"automl_local: {len(records)} trials; best {automl.best_estimator} "
        f"{args.primary_metric}={best_value:.4f} (validation); model in {args.best_model}"
    )


def log_trials(records: list[dict[str, Any]], metric: str) -> None:
    """Each trial as a child run of the step's run: its learner, configuration and metric."""
    import mlflow

    for index, record in enumerate(records):
        with mlflow.start_run(run_name=f"trial_{index}", nested=True):
            mlflow.set_tag("mlops.automl.learner", record.get("learner"))
            config = record.get("config") or {}
            mlflow.log_params({"learner": record.get("learner"), **{k: str(v) for k, v in config.items()}})
            value = (record.get("logged_metric") or {}).get(metric)
            if value is not None:
                mlflow.log_metric(metric, float(value))


def best_metric(automl: Any, metric: str) -> float:
    _, higher_is_better = CLASSIFICATION.get(metric) or REGRESSION[metric]
    return float(-automl.best_loss if higher_is_better else automl.best_loss)


def series(args: Any) -> pd.DataFrame:
    """The one series to forecast: (time, target) sorted by time, timestamps distinct, target numeric."""
    frame = read_table(args.training_data)
    source = str(args.training_data)
    for field, name in (("time_column_name", args.time_column_name), ("target_column_name", args.target_column_name)):
        if name not in frame.columns:
            columns = ", ".join(map(str, frame.columns))
            raise DataError(f"{field}: '{name}' is not a column of {source}; columns: {columns}")
    time, target = args.time_column_name, args.target_column_name
    data = frame[[time, target]].copy()
    data[time] = pd.to_datetime(data[time], errors="coerce")
    if data[time].isna().any():
        row = int(data[time].isna().to_numpy().argmax())
        raise DataError(f"{source}: column '{time}' row {row + 1}: {frame[time].iloc[row]!r} is not a date or time")
    data[target] = pd.to_numeric(data[target], errors="coerce")
    if data[target].isna().any():
        raise DataError(f"{source}: column '{target}' has values that are missing or not numbers")
    data = data.sort_values(time).reset_index(drop=True)
    if data[time].duplicated().any():
        raise DataError(
            f"{source}: column '{time}' repeats timestamps (several series?); time_series_id_column_names runs on "
            "Azure ML only"
        )
    if len(data) < 3 * args.forecast_horizon:
        raise DataError(
            f"{source}: {len(data)} rows is too short for forecast_horizon {args.forecast_horizon} "
            f"(at least {3 * args.forecast_horizon})"
        )
    return data


def forecast_main(args: Any) -> None:
    """Forecasting: the series' last forecast_horizon periods validate each trial (or n_cross_validations
    rolling folds); the best configuration is refitted on the whole series and forecasts the next horizon."""
    import mlflow

    data = series(args)
    time, target = args.time_column_name, args.target_column_name
    frequency = args.frequency or pd.infer_freq(data[time])
    if frequency is None:
        raise DataError(f"forecasting.frequency: '{time}' has no regular frequency; give one (e.g. D, W, MS)")
    kind, _, folds = args.validation.partition(":")
    settings: dict[str, Any] = {"period": args.forecast_horizon, "retrain_full": True}
    if kind == "cv":
        settings |= {"eval_method": "cv", "n_splits": int(folds)}
        described = f"{folds} rolling folds of {args.forecast_horizon} periods"
    else:
        settings["eval_method"] = "holdout"
        described = f"the last {args.forecast_horizon} periods"
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run() as run:
        log = Path(scratch) / "trials.jsonl"
        automl = search(args, {"dataframe": data, "label": target}, settings, described, log)
        records = trials(log)
        log_trials(records, args.primary_metric)
        best_value = best_metric(automl, args.primary_metric)
        future = pd.DataFrame(
            {time: pd.date_range(data[time].iloc[-1], periods=args.forecast_horizon + 1, freq=frequency)[1:]}
        )
        forecast = pd.DataFrame({time: future[time], target: np.asarray(automl.predict(future))})
        mlflow.log_params(
            {
                "task": args.task,
                "primary_metric": args.primary_metric,
                "learners": args.learners,
                "best_learner": automl.best_estimator,
                "forecast_horizon": args.forecast_horizon,
                "frequency": frequency,
            }
        )
        mlflow.log_metrics({args.primary_metric: best_value, "automl_trials": len(records)})
        mlflow.log_text(forecast.to_csv(index=False), "forecast.csv")
        output = Path(args.best_model)
        meta = {
            "training_run_id": run.info.run_id,
            "task": "forecasting",
            "target_column": target,
            "time_column": time,
            "forecast_horizon": args.forecast_horizon,
            "frequency": frequency,
            "estimator": f"automl:{automl.best_estimator}",
        }
        save_mlflow_model(
            automl.model,
            future,
            forecast[target],
            output,
            meta,
            [*requirements(automl.best_estimator), *pinned(["flaml"])],  # FLAML's forecaster classes load it
        )
        mlflow.log_artifacts(str(output), artifact_path="model")
    print(
        f"automl_local: {len(records)} trials; best {automl.best_estimator} {args.primary_metric}={best_value:.4f} "
        f"(validation); next {args.forecast_horizon} periods: {', '.join(f'{v:.1f}' for v in forecast[target][:5])}"
        f"{' ...' if args.forecast_horizon > 5 else ''}; model in {args.best_model}"
    )


def save(
    pipeline: Any, features: pd.DataFrame, folder: Path, run_id: str, spec: Any, learner: str, positive: Any
) -> None:
    meta = model_metadata(run_id, spec, f"automl:{learner}", pipeline, positive)
    save_mlflow_model(pipeline, features, pipeline.predict(features), folder, meta, requirements(learner))


def save_mlflow_model(
    model: Any, example: pd.DataFrame, predictions: Any, folder: Path, meta: dict[str, Any], pins: list[str]
) -> None:
    """An MLflow model (sklearn flavour, cloudpickle: LightGBM, XGBoost and FLAML's forecasters are not skops')
    with a signature and an input example."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    if folder.exists() and any(folder.iterdir()):
        raise DataError(f"best_model: folder {folder} is not empty")
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)  # its caution about pickle, said above
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model,
            str(folder),
            signature=infer_signature(example, predictions),
            input_example=example.head(5),
            metadata=meta,
            pip_requirements=pins,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )


if __name__ == "__main__":
    run_main(main)
