"""register_model: register the candidate if the gate said so, tag the version, make it the champion.

The version is registered from the training run (`runs:/<training_run_id>/model`) to keep lineage from the
registry back to the run, its params, metrics and data. MLflow 3 still accepts a `runs:/` URI whose path holds
plain run artifacts: `mlflow.register_model` lists the run's artifacts under that path and, when an `MLmodel` file
is there, uses the artifact location as the version's source (no LoggedModel needed; only when the path has no
`MLmodel` does it look for an MLflow 3 LoggedModel). The training step logs the model with `log_artifacts`, which
Azure ML's MLflow server supports, so the same call registers locally and on Azure.

The champion is a model version tag (Azure's MLflow has no aliases and no stages): the new version gets
`champion=true` first, then earlier champions get `champion=false`, so a crash in between leaves two "true" tags
(resolved to the highest version) rather than none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.registry import CHAMPION_TAG, champion_versions, check_model_name, search_versions

MODEL_ARTIFACT_PATH = "model"  # where train_model logs the model files in its run


def build_parser() -> ArgumentParser:
    """The flags component.yml's command passes; no defaults here (component.yml owns them)."""
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="candidate MLflow model folder")
    parser.add_argument("--evaluation", required=True, help="evaluate_model's output folder")
    parser.add_argument("--model_name", required=True)
    parser.add_argument("--data_asset", help="e.g. azureml:diabetes-training:1")
    parser.add_argument("--registration", required=True, help="output folder")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Any:
    return build_parser().parse_args(argv)


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise DataError(f"evaluation: {path.name} not found in {path.parent} ({what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def read_decision(folder: Path) -> dict[str, Any]:
    decision = read_json(folder / "decision.json", "written by evaluate_model")
    if not isinstance(decision, dict) or not isinstance(decision.get("register"), bool):
        raise DataError(f"{folder / 'decision.json'}: expected an object with a boolean 'register'")
    return decision


def training_run_id(model_folder: Path) -> str:
    from mlflow.models import Model

    if not (model_folder / "MLmodel").is_file():
        raise DataError(f"model: {model_folder} is not an MLflow model folder (no MLmodel file)")
    run_id = (Model.load(str(model_folder)).metadata or {}).get("training_run_id")
    if not run_id:
        raise DataError(f"{model_folder / 'MLmodel'}: metadata has no training_run_id (was it saved by train_model?)")
    return str(run_id)


def lineage_tags(run_tags: dict[str, str], environ: dict[str, str]) -> dict[str, str]:
    """git commit and pipeline run of this step's run, with Azure ML's fallbacks."""
    return {
        "git_commit": run_tags.get("mlflow.source.git.commit") or run_tags.get("azureml.git.commit") or "unknown",
        "pipeline_run_id": run_tags.get("mlflow.parentRunId") or environ.get("AZUREML_ROOT_RUN_ID") or "unknown",
    }


def version_tags(
    metrics: dict[str, float], decision: dict[str, Any], lineage: dict[str, str], run_id: str, data_asset: str | None
) -> dict[str, str]:
    tags = {name: repr(float(value)) for name, value in metrics.items()}
    passed = decision.get("passed")
    tags.update(
        primary_metric=str(decision.get("primary_metric", "unknown")),
        gate_mode=str(decision.get("mode", "unknown")),
        gate_passed="skipped" if passed is None else str(bool(passed)).lower(),
        training_run_id=run_id,
        **lineage,
    )
    if data_asset:
        tags["data_asset"] = data_asset
    return tags


def promote(client: Any, model_name: str, version: str) -> str | None:
    """Mark `version` champion, demote earlier champions; returns the previous champion's version."""
    client.set_model_version_tag(model_name, version, CHAMPION_TAG, "true")
    previous = [v for v in champion_versions(search_versions(client, model_name)) if str(v.version) != str(version)]
    for old in previous:
        client.set_model_version_tag(model_name, str(old.version), CHAMPION_TAG, "false")
    return str(previous[0].version) if previous else None


def register(source: str, model_name: str) -> Any:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.register_model(source, model_name)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
            raise DataError(f"model: cannot register {source}: {exc.message}") from None
        raise


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    model_name = check_model_name(args.model_name)
    evaluation = Path(args.evaluation)
    decision = read_decision(evaluation)
    out = Path(args.registration)
    out.mkdir(parents=True, exist_ok=True)

    import mlflow

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with mlflow.start_run() as run:
        if not decision["register"]:
            record = {
                "registered": False,
                "model_name": model_name,
                "version": None,
                "reason": decision.get("reason") or "the evaluation gate decided not to register",
            }
            _write(out, record)
            mlflow.set_tags({"registration.registered": "false", "registration.model_name": model_name})
            print(f"register_model: not registered — {record['reason']}")
            return

        metrics = read_json(evaluation / "metrics.json", "written by evaluate_model")
        run_id = training_run_id(Path(args.model))
        client = mlflow.MlflowClient()
        own_tags = client.get_run(run.info.run_id).data.tags
        source = f"runs:/{run_id}/{MODEL_ARTIFACT_PATH}"
        version = register(source, model_name)
        number = str(version.version)
        tags = version_tags(metrics, decision, lineage_tags(own_tags, dict(os.environ)), run_id, args.data_asset)
        for key, value in tags.items():
            client.set_model_version_tag(model_name, number, key, value)
        previous = promote(client, model_name, number)
        record = {
            "registered": True,
            "model_name": model_name,
            "version": number,
            "source": source,
            "champion": True,
            "previous_champion_version": previous,
            "tags": {**tags, CHAMPION_TAG: "true"},
        }
        _write(out, record)
        mlflow.set_tags(
            {
                "registration.registered": "true",
                "registration.model_name": model_name,
                "registration.version": number,
            }
        )
    print(
        f"register_model: {model_name} version {number} registered from {source} and marked champion"
        + (f" (previous champion: version {previous})" if previous else "")
    )


def _write(folder: Path, record: dict[str, Any]) -> None:
    (folder / "registration.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
