"""Model quality of the template: the default training pipeline against local AutoML on the same test split.

Runs pipelines/train.yml (the default estimator and hyperparameters) and pipelines/train-automl.yml in one fresh
state folder: both prep the same table with the same seed, so their evaluate steps score the same test split. Prints
both test ROC AUCs and the gap. The issue's rule: if the default is worse than AutoML's best by more than 0.01,
change the default estimator or its hyperparameters (components/train/component.yml).

    .venv/bin/python benchmarks/model_quality.py [--max-trials 30] [--timeout-minutes 10]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 0.01


def test_metrics(pipeline: str, overrides: list[str]) -> tuple[dict[str, float], str]:
    """(the evaluate step's test-split metrics, the model's estimator) of one pipeline run."""
    from mlflow.models import Model

    from mlops.targets.local.jobs import submit

    run = submit(REPO / "pipelines" / pipeline, overrides, echo=lambda _line: None)
    metrics = json.loads((run.outputs["evaluation"] / "metrics.json").read_text())
    model_step = next(
        step for step in run.steps.values() if "model_output" in step.outputs or "best_model" in step.outputs
    )
    folder = model_step.outputs.get("model_output") or model_step.outputs["best_model"]
    return metrics, str(Model.load(str(folder)).metadata.get("estimator"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-trials", type=int, default=30)
    parser.add_argument("--timeout-minutes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["MLOPS_HOME"] = state
        os.environ["MLOPS_PROJECT_ROOT"] = str(REPO)
        default, default_model = test_metrics("train.yml", [])
        limits = [
            f"jobs.automl.limits.max_trials={args.max_trials}",
            f"jobs.automl.limits.timeout_minutes={args.timeout_minutes}",
        ]
        automl, automl_model = test_metrics("train-automl.yml", limits)
    gap = automl["roc_auc"] - default["roc_auc"]
    print(f"test ROC AUC, same split: default pipeline {default['roc_auc']:.4f} ({default_model}), ", end="")
    print(f"local AutoML best {automl['roc_auc']:.4f} ({automl_model})")
    print(f"gap (AutoML - default): {gap:+.4f}; tolerance {TOLERANCE}")
    verdict = "the default is within tolerance" if gap <= TOLERANCE else "the default is WORSE: change it"
    print(verdict)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
