"""responsible_ai_insights: explanations, error analysis and the fairness picture of the candidate model.

Runs after evaluate, on the same test split (at most `max_rows` rows, sampled by seed). Writes to `insights`:
insights.json (the machine contract) and report.html (one page a person reads, charts inline); logs them to the
step's MLflow run under `rai/` with the surrogate's fidelity as a metric. The fairness section is evaluate's
(fairness.json and the gate's max_disparity check), so both read the same numbers. register_model tags the
registered version with the top features and the worst cohort.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from error_analysis import errors_of, feature_cohorts, tree_cohorts
from explain import permutation_ranking, score_function, surrogate
from report import write_html
from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.io import read_table
from tabular_common.model_info import candidate_metadata, positive_label_of
from tabular_common.schema import TASKS, check_target, prepare_features, require_columns


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--test_data", required=True)
    parser.add_argument("--target_column", required=True)
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--evaluation", help="evaluate's output folder (absent: no fairness section)")
    parser.add_argument("--max_rows", type=int, required=True)
    parser.add_argument("--local_rows", type=int, required=True)
    parser.add_argument("--min_cohort_rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--insights", required=True, help="output folder")
    return parser


def fairness_section(evaluation: Path | None) -> dict[str, Any] | None:
    """evaluate's per-group metrics and, when the gate bounded a disparity, its check."""
    if evaluation is None:
        return None
    file = evaluation / "fairness.json"
    if not file.is_file():
        return None
    fairness = json.loads(file.read_text(encoding="utf-8"))
    decision_file = evaluation / "decision.json"
    decision = json.loads(decision_file.read_text(encoding="utf-8")) if decision_file.is_file() else {}
    check = next((c for c in decision.get("checks", []) if c.get("name") == "max_disparity"), None)
    return {**fairness, "check": check}


def insights_of(
    model: Any, features: Any, target: Any, task: str, positive: Any, args: Any, fairness: dict[str, Any] | None
) -> dict[str, Any]:
    classes = list(getattr(model, "classes_", []))
    predicted = model.predict(features)
    errors = errors_of(task, target, predicted)
    min_rows = max(1, min(args.min_cohort_rows, len(features) // 4))
    return {
        "rows": len(features),
        "explanations": {
            "permutation": permutation_ranking(
                model, features, target, score_function(task, classes, positive), args.seed
            ),
            "surrogate": surrogate(model, features, task, args.seed, args.local_rows),
        },
        "error_analysis": {
            "rows": len(features),
            "error_rate": float(errors.mean()),
            "error_definition": "wrong class" if task == "classification" else "absolute error in the worst quarter",
            "tree_cohorts": tree_cohorts(features, errors, min_rows=min_rows, seed=args.seed),
            "feature_cohorts": feature_cohorts(features, errors, min_rows=min_rows),
        },
        "fairness": fairness,
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    for name in ("max_rows", "local_rows", "min_cohort_rows"):
        if getattr(args, name) < 1:
            raise DataError(f"{name}: expected an integer >= 1, got {getattr(args, name)}")
    metadata = candidate_metadata(args.model, args.task, args.target_column)
    numeric = list(metadata.get("numeric_features", []))
    categorical = list(metadata.get("categorical_features", []))
    source = str(args.test_data)
    test = read_table(args.test_data)
    require_columns(test, [args.target_column], source)
    if len(test) > args.max_rows:
        test = test.sample(args.max_rows, random_state=args.seed).reset_index(drop=True)
    target = check_target(test[args.target_column], args.target_column, args.task, source, min_classes=1)
    features = prepare_features(test, numeric, categorical, source)

    import mlflow
    import mlflow.sklearn

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    model = mlflow.sklearn.load_model(str(args.model))
    positive = positive_label_of(model, metadata)
    insights = {
        "model": metadata.get("estimator", "model"),
        "task": args.task,
        **insights_of(
            model,
            features,
            target,
            args.task,
            positive,
            args,
            fairness_section(Path(args.evaluation) if args.evaluation else None),
        ),
    }
    out = Path(args.insights)
    out.mkdir(parents=True, exist_ok=True)
    (out / "insights.json").write_text(json.dumps(insights, indent=2, default=str) + "\n", encoding="utf-8")
    write_html(insights, out / "report.html")
    top = [row["feature"] for row in insights["explanations"]["permutation"][:3]]
    worst = insights["error_analysis"]["tree_cohorts"][0] if insights["error_analysis"]["tree_cohorts"] else None
    with mlflow.start_run():
        mlflow.log_metrics(
            {
                "rai_surrogate_fidelity": insights["explanations"]["surrogate"]["fidelity"],
                "rai_error_rate": insights["error_analysis"]["error_rate"],
                **({"rai_worst_cohort_error_rate": worst["error_rate"]} if worst else {}),
            }
        )
        mlflow.set_tags({"rai.top_features": ",".join(top), "rai.worst_cohort": worst["conditions"] if worst else ""})
        mlflow.log_artifacts(str(out), artifact_path="rai")
    print(f"responsible_ai_insights: top features {', '.join(top)}; report {out / 'report.html'}")
    if worst:
        print(
            f"responsible_ai_insights: worst cohort {worst['conditions']} "
            f"({worst['error_rate']:.1%} of {worst['rows']} rows)"
        )


if __name__ == "__main__":
    run_main(main)
