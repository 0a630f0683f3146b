"""prep_data: validate a raw tabular data set, keep the declared columns, split it into train and test.

Reads a csv/parquet file, an MLTable folder or a folder of files; checks every declared column against the data;
writes the train and test splits as MLTable folders and a profile of the data (`profile.json`) with the source
files' sha256, so a run records exactly which bytes it trained on.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.io import file_sha256, read_table, table_files, write_mltable
from tabular_common.schema import (
    TASKS,
    ColumnSpec,
    check_sensitive_groups,
    describe_columns,
    regression_hint,
    resolve_positive_label,
    show_value,
    validate_frame,
)

TOP_VALUES = 20
MIN_TEST_SIZE, MAX_TEST_SIZE = 0.05, 0.5


def build_parser() -> ArgumentParser:
    """The flags component.yml's command passes; no defaults here (component.yml owns them)."""
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw_data", required=True, help="csv/parquet file, MLTable folder or folder of files")
    parser.add_argument("--target_column", required=True)
    parser.add_argument("--numeric_features", required=True, help="comma-separated column names")
    parser.add_argument("--categorical_features", help="comma-separated column names")
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--sensitive_feature")
    parser.add_argument("--id_column")
    parser.add_argument("--positive_label", help="binary classification: the positive class")
    parser.add_argument("--test_size", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--train_data", required=True, help="output folder (MLTable)")
    parser.add_argument("--test_data", required=True, help="output folder (MLTable)")
    parser.add_argument("--profile", required=True, help="output folder for profile.json")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def split_frame(
    frame: pd.DataFrame, spec: ColumnSpec, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test split with `seed`; stratified on the target for classification."""
    from sklearn.model_selection import train_test_split

    if not MIN_TEST_SIZE <= test_size <= MAX_TEST_SIZE:
        raise DataError(f"test_size: {test_size} is outside [{MIN_TEST_SIZE}, {MAX_TEST_SIZE}]")
    stratify = None
    if spec.task == "classification":
        counts = frame[spec.target].value_counts()
        if counts.min() < 2:
            hint = regression_hint(frame[spec.target], spec.target) or (
                "; merge rare classes or drop their rows, or use task 'regression' if the target is a quantity"
            )
            raise DataError(
                f"target column '{spec.target}': class {show_value(counts.idxmin())} has only {counts.min()} row; "
                f"a stratified split needs at least 2 rows per class{hint}"
            )
        stratify = frame[spec.target]
    try:
        train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:  # e.g. fewer test rows than classes
        raise DataError(f"cannot split {len(frame)} rows with test_size {test_size}: {exc}") from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def column_profile(series: pd.Series, role: str, numeric: bool) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "role": role,
        "dtype": str(series.dtype),
        "nulls": int(series.isna().sum()),
        "null_rate": float(series.isna().mean()),
        "distinct": int(series.nunique(dropna=True)),
    }
    values = series.dropna()
    if numeric and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        profile.update(
            min=_number(values.min()),
            max=_number(values.max()),
            mean=_number(values.mean()),
            std=_number(values.std()),
        )
    elif role != "id":
        counts = values.astype(str).value_counts().head(TOP_VALUES)
        profile["value_counts"] = {str(value): int(count) for value, count in counts.items()}
    return profile


def build_profile(
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    spec: ColumnSpec,
    sources: list[dict[str, str]],
    train: pd.DataFrame,
    test: pd.DataFrame,
    test_size: float,
    seed: int,
) -> dict[str, Any]:
    roles = {name: "numeric" for name in spec.numeric} | {name: "categorical" for name in spec.categorical}
    if spec.sensitive is not None and spec.sensitive not in roles:
        roles[spec.sensitive] = "sensitive"
    if spec.id_column is not None:
        roles[spec.id_column] = "id"
    roles[spec.target] = "target"
    columns = {}
    for name in frame.columns:
        role = roles[name]
        numeric = role == "numeric" or (role in ("sensitive", "target") and _is_number_column(frame[name]))
        if role == "target" and spec.task == "classification":
            numeric = False
        columns[name] = column_profile(frame[name], role, numeric) | {"input_dtype": str(raw[name].dtype)}
    target: dict[str, Any] = {"column": spec.target}
    if spec.task == "classification":
        counts = frame[spec.target].value_counts().sort_index()
        target["class_counts"] = {str(label): int(count) for label, count in counts.items()}
        target["class_balance"] = {str(label): float(count / len(frame)) for label, count in counts.items()}
        for name, split in (("train", train), ("test", test)):
            split_counts = split[spec.target].value_counts().sort_index()
            target[f"{name}_class_balance"] = {
                str(label): float(count / len(split)) for label, count in split_counts.items()
            }
    return {
        "sources": sources,
        "task": spec.task,
        "input_rows": len(raw),
        "input_columns": raw.shape[1],
        "rows": len(frame),
        "columns": frame.shape[1],
        "dropped_columns": [str(name) for name in raw.columns if name not in frame.columns],
        "missing_value_rate": missing_value_rate(frame),
        "column_profiles": columns,
        "target": target,
        "split": {
            "test_size": test_size,
            "seed": seed,
            "stratified": spec.task == "classification",
            "train_rows": len(train),
            "test_rows": len(test),
        },
    }


def missing_value_rate(frame: pd.DataFrame) -> float:
    return float(frame.isna().to_numpy().mean()) if frame.size else 0.0


def describe_sources(raw_data: str) -> list[dict[str, str]]:
    root = Path(raw_data)
    sources = []
    for file in table_files(root):
        relative = file.name if root.is_file() else file.relative_to(root).as_posix()
        sources.append({"file": relative, "sha256": file_sha256(file)})
    return sources


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    spec = ColumnSpec.from_inputs(
        args.target_column,
        args.numeric_features,
        args.categorical_features,
        args.task,
        args.sensitive_feature,
        args.id_column,
    )
    raw = read_table(args.raw_data)
    frame = validate_frame(raw, spec, source=str(args.raw_data))
    classes = list(np.unique(frame[spec.target].to_numpy())) if spec.task == "classification" else []
    positive = resolve_positive_label(classes, args.positive_label, spec.task, spec.target)
    train, test = split_frame(frame, spec, args.test_size, args.seed)
    if spec.sensitive is not None:  # the fairness metrics are computed on the test split
        check_sensitive_groups(test[spec.sensitive], spec.sensitive, f"{args.raw_data} (test split)")
    write_mltable(train, args.train_data)
    write_mltable(test, args.test_data)
    profile = build_profile(raw, frame, spec, describe_sources(args.raw_data), train, test, args.test_size, args.seed)
    if positive is not None:
        profile["target"]["positive_label"] = positive
    profile_file = Path(args.profile) / "profile.json"
    profile_file.parent.mkdir(parents=True, exist_ok=True)
    profile_file.write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    log_to_mlflow(spec, args, profile, profile_file, positive)
    print(
        f"prep_data: {profile['rows']} rows x {profile['columns']} columns -> "
        f"train {len(train)}, test {len(test)} (seed {args.seed})"
    )


def log_to_mlflow(
    spec: ColumnSpec, args: argparse.Namespace, profile: dict[str, Any], profile_file: Path, positive: Any
) -> None:
    import mlflow

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with mlflow.start_run():
        mlflow.log_params(
            {
                "task": spec.task,
                "target_column": spec.target,
                "numeric_features": describe_columns(spec.numeric),
                "categorical_features": describe_columns(spec.categorical),
                "sensitive_feature": spec.sensitive or "none",
                "id_column": spec.id_column or "none",
                "positive_label": "none" if positive is None else str(positive),
                "test_size": args.test_size,
                "seed": args.seed,
            }
        )
        mlflow.log_metrics(
            {
                "rows": profile["rows"],
                "train_rows": profile["split"]["train_rows"],
                "test_rows": profile["split"]["test_rows"],
                "missing_value_rate": profile["missing_value_rate"],
            }
        )
        mlflow.log_artifact(str(profile_file), artifact_path="profile")


def _is_number_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


if __name__ == "__main__":
    run_main(main)
