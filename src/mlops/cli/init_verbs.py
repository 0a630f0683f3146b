"""`mlops init TABLE --target COLUMN`: bring your own table; writes a model definition and all its files."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_OK, SharedFlags, layout


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    init = verbs.add_parser(
        "init",
        help="infer a model definition from a CSV/parquet table and write its data, pipeline, endpoints and monitor",
    )
    init.add_argument("table", type=Path, help="a .csv or .parquet file (or an MLTable folder)")
    init.add_argument("--target", required=True, help="the column to predict")
    init.add_argument("--name", required=True, help="the model's name (models/NAME.yml; endpoints NAME-endpoint)")
    init.add_argument("--task", choices=["classification", "regression"], help="default: inferred from the target")
    init.add_argument("--id-column", help="the key that joins predictions to ground truth (default: inferred)")
    init.add_argument("--positive-label", help="binary classification: the positive class (default: inferred)")
    init.add_argument("--sensitive-feature", help="a feature to report fairness metrics over (default: none)")
    init.add_argument("--numeric", type=_names, default=[], metavar="A,B", help="force these columns numerical")
    init.add_argument("--categorical", type=_names, default=[], metavar="A,B", help="force these columns categorical")
    init.add_argument("--drop", type=_names, default=[], metavar="A,B", help="columns that are not features")
    init.add_argument("--primary-metric", help="the gate's metric (default: roc_auc, f1 or r2 by task)")
    init.add_argument("--min-metric", type=float, help="the gate's bound (default: a dummy model's score + 0.05)")
    init.add_argument("--holdout", type=float, default=0.2, help="share of rows held out as production (0.2)")
    init.add_argument("--seed", type=int, default=42, help="seed of the hold-out split (42)")
    init.add_argument("--force", action="store_true", help="overwrite the model's files if they exist")
    init.set_defaults(func=init_model)


def init_model(args: argparse.Namespace) -> int:
    from mlops.authoring.init import init_model as write_model

    given = {
        key: value
        for key, value in {
            "task": args.task,
            "id_column": args.id_column,
            "positive_label": args.positive_label,
            "sensitive_feature": args.sensitive_feature,
            "numeric": args.numeric,
            "categorical": args.categorical,
            "drop": args.drop,
            "primary_metric": args.primary_metric,
            "min_metric": args.min_metric,
        }.items()
        if value not in (None, [])
    }
    project = layout()
    print(f"mlops init: {args.table} -> model {args.name}")
    result = write_model(
        project,
        args.table,
        args.target,
        name=args.name,
        given=given,
        holdout=args.holdout,
        seed=args.seed,
        force=args.force,
    )
    print(f"wrote {len(result.written)} file(s):")
    for path in result.written:
        print(f"  {project.relative(path)}")
    print(f"next: .venv/bin/mlops validate && .venv/bin/mlops run --model {args.name}")
    return EXIT_OK
