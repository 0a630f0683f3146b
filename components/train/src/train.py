"""train_model: fit a preprocessing + estimator pipeline and save it as an MLflow model.

The model is saved into the `model_output` folder (the step's `mlflow_model` output) with a signature, an input
example and metadata (training run id, task, column roles), and the same files are logged to the step's MLflow run
under `model/`, which is what the register step registers (`runs:/<training_run_id>/model`). Only the plain
artifact APIs are used (no MLflow-3-only LoggedModel calls), so the same code works against Azure ML's MLflow.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from estimators import ESTIMATORS, HYPERPARAMETERS, SKOPS_TRUSTED_TYPES, build_estimator, build_pipeline
from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.io import read_table
from tabular_common.metrics import score_model
from tabular_common.model_info import model_metadata, pinned
from tabular_common.schema import TASKS, ColumnSpec, describe_columns, resolve_positive_label, validate_frame

# Written (pinned) to the model's requirements.txt / conda.yaml instead of MLflow's inference.
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")
LOGGING = ("explicit", "autolog")


def build_parser() -> ArgumentParser:
    """The flags component.yml's command passes; no defaults here (component.yml owns them)."""
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train_data", required=True)
    parser.add_argument("--target_column", required=True)
    parser.add_argument("--numeric_features", required=True, help="comma-separated column names")
    parser.add_argument("--categorical_features", help="comma-separated column names")
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--positive_label", help="binary classification: the positive class")
    parser.add_argument("--estimator", required=True, choices=list(ESTIMATORS))
    for parameter in HYPERPARAMETERS:
        parser.add_argument(f"--{parameter.name}", type=parameter.type, required=not parameter.optional)
    parser.add_argument("--validation_size", type=float, required=True, help="share held out; 0 = none")
    parser.add_argument("--mlflow_logging", required=True, choices=LOGGING)
    parser.add_argument("--model_output", required=True, help="output folder (mlflow_model)")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def hyperparameters_from(args: argparse.Namespace) -> dict[str, Any]:
    return {parameter.name: getattr(args, parameter.name) for parameter in HYPERPARAMETERS}


def training_frame(path: str, spec: ColumnSpec) -> tuple[pd.DataFrame, pd.Series]:
    """(features: numeric float64 + categorical str, target) from the train split."""
    frame = validate_frame(read_table(path), spec, source=str(path))
    return frame[spec.features], frame[spec.target]


def save_model(pipeline: Any, features: pd.DataFrame, folder: Path, meta: dict[str, Any]) -> None:
    """Save as an MLflow model into `folder` (which may exist but must be empty, like an Azure ML output)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    if folder.exists() and any(folder.iterdir()):
        raise DataError(f"model_output: folder {folder} is not empty")
    mlflow.sklearn.save_model(
        pipeline,
        str(folder),
        signature=infer_signature(features, pipeline.predict(features)),
        input_example=features.head(5),
        metadata=meta,
        pip_requirements=pinned(MODEL_REQUIREMENTS),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )


def hold_out(
    features: pd.DataFrame, target: pd.Series, share: float, task: str, seed: int
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None, pd.Series | None]:
    """(fit features, fit target, validation features, validation target): `share` of the rows held out,
    stratified by class for classification; share 0 holds out nothing."""
    if not 0.0 <= share <= 0.5:
        raise DataError(f"validation_size: {share} is out of range; expected a share between 0 and 0.5")
    if share == 0.0:
        return features, target, None, None
    from sklearn.model_selection import train_test_split

    held = max(1, round(len(target) * share))
    if task == "classification" and (held < target.nunique() or target.value_counts().min() < 2):
        raise DataError(
            f"validation_size: {share} of {len(target)} rows cannot hold out every class "
            f"({target.nunique()} classes, the rarest with {target.value_counts().min()} rows)"
        )
    stratify = target if task == "classification" else None
    x_fit, x_val, y_fit, y_val = train_test_split(
        features, target, test_size=held, random_state=seed, stratify=stratify
    )
    return x_fit, y_fit, x_val, y_val


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    spec = ColumnSpec.from_inputs(args.target_column, args.numeric_features, args.categorical_features, args.task)
    estimator, used = build_estimator(args.estimator, args.task, hyperparameters_from(args))
    features, target = training_frame(args.train_data, spec)
    x_fit, y_fit, x_val, y_val = hold_out(features, target, args.validation_size, spec.task, args.seed)
    pipeline = build_pipeline(spec.numeric, spec.categorical, estimator)

    import mlflow
    import mlflow.sklearn

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    autolog = args.mlflow_logging == "autolog"
    if autolog:  # parameters and training metrics from MLflow; the model is saved below, with its metadata
        mlflow.sklearn.autolog(log_models=False, log_datasets=False, log_post_training_metrics=False, silent=True)
    with mlflow.start_run() as run:
        pipeline.fit(x_fit, y_fit)
        classes = list(pipeline.classes_) if spec.task == "classification" else []
        positive = resolve_positive_label(classes, args.positive_label, spec.task, spec.target)
        scores = {f"training_{k}": v for k, v in score_model(pipeline, x_fit, y_fit, spec.task, positive).items()}
        if x_val is not None:
            held = score_model(pipeline, x_val, y_val, spec.task, positive)
            scores |= {f"validation_{name}": value for name, value in held.items()}
        mlflow.log_params(
            {
                "estimator": args.estimator,
                "task": spec.task,
                "target_column": spec.target,
                "numeric_features": describe_columns(spec.numeric),
                "categorical_features": describe_columns(spec.categorical),
                "positive_label": "none" if positive is None else str(positive),
                "validation_size": args.validation_size,
                "mlflow_logging": args.mlflow_logging,
                **({} if autolog else used),  # autolog logs every estimator parameter itself
            }
        )
        logged = {k: v for k, v in scores.items() if not (autolog and k.startswith("training_"))}
        mlflow.log_metrics({**logged, "training_rows": len(x_fit)})
        output = Path(args.model_output)
        save_model(pipeline, x_fit, output, model_metadata(run.info.run_id, spec, args.estimator, pipeline, positive))
        mlflow.log_artifacts(str(output), artifact_path="model")
    summary = ", ".join(f"{name}={value:.4f}" for name, value in scores.items())
    print(f"train_model: {args.estimator} ({spec.task}) on {len(x_fit)} rows; {summary}")


if __name__ == "__main__":
    run_main(main)
