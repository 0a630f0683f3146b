"""evaluate_model: score the candidate on the test split, compare it with the registered champion, decide.

Writes to the `evaluation` folder: metrics.json (candidate), champion_metrics.json (or null), decision.json (the
gate's verdict, read by register_model), fairness.json when a sensitive feature is given, and the plots. The step
reads the model registry, so its component is not deterministic: Azure ML must never reuse an old decision.

decision.json names the champion it compared with (`champion_version`) and fingerprints what the metrics were
measured on (`test_split_sha256`), so register_model can tell when the champion changed after the gate ran and
re-apply the gate to the new champion's tagged metrics only when they were measured on the same rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gate
import pandas as pd
from champion import ChampionResult, score_champion
from fairness import check_disparity_metric, group_metrics
from plots import classification_plots, regression_plots
from tabular_common.errors import ArgumentParser, run_main
from tabular_common.io import read_table
from tabular_common.metrics import label_text, predict, task_metrics
from tabular_common.model_info import candidate_metadata, positive_label_of
from tabular_common.registry import check_model_name
from tabular_common.schema import (
    TASKS,
    check_sensitive_groups,
    check_target,
    optional_name,
    prepare_features,
    require_columns,
)

MAX_TAG_LENGTH = 4000  # Azure ML and MLflow both cap tag values (MLflow at 8000 characters)


def build_parser() -> ArgumentParser:
    """The flags component.yml's command passes; no defaults here (component.yml owns them)."""
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="candidate MLflow model folder")
    parser.add_argument("--test_data", required=True)
    parser.add_argument("--target_column", required=True)
    parser.add_argument("--task", required=True, choices=TASKS)
    # Checked per task by gate.check_config, whose message lists the task's metrics.
    parser.add_argument("--primary_metric", required=True)
    parser.add_argument("--model_name", required=True, help="registered model to compare with")
    parser.add_argument("--sensitive_feature")
    parser.add_argument("--gate_mode", required=True, choices=gate.MODES)
    parser.add_argument("--min_metric", type=float, help="absent: the primary metric's default (gate.py)")
    parser.add_argument("--min_improvement", type=float, required=True)
    parser.add_argument("--max_disparity", type=float, help="absent: no fairness check")
    parser.add_argument("--disparity_metric", required=True)
    parser.add_argument("--evaluation", required=True, help="output folder")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Any:
    return build_parser().parse_args(argv)


def fingerprint_test_split(test: pd.DataFrame, target_column: str, positive_label: Any) -> str:
    """sha256 of the test rows (columns, dtypes, values in order), the target column and the positive class: two
    evaluations with the same fingerprint measured their metrics on the same thing, so they can be compared."""
    digest = hashlib.sha256()
    header = {
        "target_column": target_column,
        "positive_label": None if positive_label is None else label_text(positive_label),
        "columns": [str(name) for name in test.columns],
        "dtypes": [str(dtype) for dtype in test.dtypes],
    }
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    digest.update(pd.util.hash_pandas_object(test, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def evaluate_candidate(
    model: Any, features: pd.DataFrame, target: pd.Series, task: str, folder: Path, positive_label: Any = None
) -> tuple[dict[str, float], Any, list[Path]]:
    """(metrics, predictions, plot files) of the candidate on the test split."""
    predictions, proba = predict(model, features, task)
    classes = list(model.classes_) if task == "classification" else None
    metrics = task_metrics(task, target, predictions, proba, classes, positive_label)
    if task == "classification":
        plots = classification_plots(target, predictions, proba, classes, folder, positive_label)
    else:
        plots = regression_plots(target, predictions, folder)
    return metrics, predictions, plots


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    gate.check_config(args.task, args.primary_metric, args.gate_mode, args.min_metric, args.min_improvement)
    check_model_name(args.model_name)
    sensitive = optional_name(args.sensitive_feature)
    gate.check_max_disparity(args.max_disparity, sensitive)
    if args.max_disparity is not None:
        check_disparity_metric(args.disparity_metric, args.task, None)
    metadata = candidate_metadata(args.model, args.task, args.target_column)
    numeric = list(metadata.get("numeric_features", []))
    categorical = list(metadata.get("categorical_features", []))

    source = str(args.test_data)
    test = read_table(args.test_data)
    require_columns(test, [args.target_column, *([sensitive] if sensitive else [])], source)
    target = check_target(test[args.target_column], args.target_column, args.task, source, min_classes=1)
    if sensitive:
        check_sensitive_groups(test[sensitive], sensitive, source)
    features = prepare_features(test, numeric, categorical, source)

    import mlflow
    import mlflow.sklearn

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    out = Path(args.evaluation)
    out.mkdir(parents=True, exist_ok=True)
    model = mlflow.sklearn.load_model(str(args.model))
    positive = positive_label_of(model, metadata)
    metrics, predictions, _ = evaluate_candidate(model, features, target, args.task, out, positive)

    fairness = None
    disparity = None
    if sensitive:
        classes = list(model.classes_) if args.task == "classification" else None
        fairness = {"sensitive_feature": sensitive} | group_metrics(
            target, predictions, test[sensitive], args.task, classes, positive
        )
        _write_json(out / "fairness.json", fairness)
        if args.max_disparity is not None:
            check_disparity_metric(args.disparity_metric, args.task, classes is not None and len(classes) == 2)
            disparity = {
                "metric": args.disparity_metric,
                "value": fairness["disparities"].get(args.disparity_metric),
                "max": args.max_disparity,
                "sensitive_feature": sensitive,
            }

    # The champion is scored with the candidate's positive class: both numbers must measure the same thing.
    champion: ChampionResult = score_champion(
        mlflow.MlflowClient(), args.model_name, test, target, args.task, (numeric, categorical), positive
    )
    decision = gate.decide(
        metrics,
        champion.metrics,
        task=args.task,
        primary_metric=args.primary_metric,
        mode=args.gate_mode,
        min_metric=args.min_metric,
        min_improvement=args.min_improvement,
        champion_version=champion.version,
        champion_error=champion.error,
        disparity=disparity,
    )
    if positive is not None:
        decision["positive_label"] = _plain(positive)
    decision["test_split_sha256"] = fingerprint_test_split(test, args.target_column, positive)
    _write_json(out / "metrics.json", metrics)
    _write_json(out / "champion_metrics.json", champion.metrics)
    _write_json(out / "decision.json", decision)
    log_to_mlflow(args, metrics, champion, fairness, decision, out, len(test))
    print(f"evaluate_model: {json.dumps(metrics)}")
    print(f"evaluate_model: register={decision['register']} — {decision['reason']}")


def log_to_mlflow(
    args: Any,
    metrics: dict[str, float],
    champion: ChampionResult,
    fairness: dict[str, Any] | None,
    decision: dict[str, Any],
    out: Path,
    test_rows: int,
) -> None:
    import mlflow

    logged = dict(metrics)
    logged.update({f"champion_{name}": value for name, value in (champion.metrics or {}).items()})
    if decision["improvement"] is not None:
        logged["gate_improvement"] = decision["improvement"]
    for name, value in ((fairness or {}).get("differences") or {}).items():
        if value is not None:
            logged[f"fairness_{name}_difference"] = value
    for name, value in ((fairness or {}).get("disparities") or {}).items():
        if value is not None:
            logged[f"fairness_{name}"] = value
    logged["test_rows"] = test_rows
    with mlflow.start_run():
        mlflow.log_params(
            {
                "model_name": args.model_name,
                "primary_metric": args.primary_metric,
                "gate_mode": args.gate_mode,
                "min_metric": _tag(decision["min_metric"]),
                "min_metric_source": decision["min_metric_source"],
                "min_improvement": args.min_improvement,
                "max_disparity": _tag(args.max_disparity),
                "disparity_metric": args.disparity_metric,
                "positive_label": _tag(decision.get("positive_label")),
                "sensitive_feature": optional_name(args.sensitive_feature) or "none",
            }
        )
        mlflow.log_metrics(logged)
        mlflow.set_tags(
            {
                "gate.mode": decision["mode"],
                "gate.primary_metric": decision["primary_metric"],
                "gate.passed": "skipped" if decision["passed"] is None else _tag(decision["passed"]),
                "gate.would_register": _tag(decision["would_register"]),
                "gate.register": _tag(decision["register"]),
                "gate.champion_version": _tag(decision["champion_version"]),
                "gate.reason": decision["reason"][:MAX_TAG_LENGTH],
            }
        )
        mlflow.log_artifacts(str(out), artifact_path="evaluation")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _tag(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
