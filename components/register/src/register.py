"""register_model: register the candidate if the gate said so, tag the version, make it the champion.

The version is registered from the training run (`runs:/<training_run_id>/model`) to keep lineage from the
registry back to the run, its params, metrics and data. MLflow 3 still accepts a `runs:/` URI whose path holds
plain run artifacts: `mlflow.register_model` lists the run's artifacts under that path and, when an `MLmodel` file
is there, uses the artifact location as the version's source (no LoggedModel needed; only when the path has no
`MLmodel` does it look for an MLflow 3 LoggedModel). The training step logs the model with `log_artifacts`, which
Azure ML's MLflow server supports, so the same call registers locally and on Azure.

The champion is a model version tag (Azure's MLflow has no aliases and no stages), changed by
`tabular_common.registry.promote`: a compare-and-set that never demotes a newer version. Locally the whole
read-register-tag-promote sequence also runs under the registry lock (`tabular_common.engine.registry_lock`), so
concurrent runs promote one after the other, and not at all once the engine that started the step has died.

The gate compared the candidate with one champion (`champion_version` in decision.json). If another one is the
champion by the time this step holds the lock, `champion_rule` decides: with gate_mode enabled the gate is applied
again to the new champion's tagged metrics when they were measured on the same test split (`test_split_sha256`),
otherwise the version is registered without becoming the champion; dry_run and disabled do not enforce the gate,
so they promote. registration.json says what is true when the step lets go of the lock.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tabular_common.engine import EXIT_ENGINE_GONE, EngineGone, check_engine_alive, registry_lock
from tabular_common.errors import ArgumentParser, DataError, run_main
from tabular_common.registry import (
    CHAMPION_TAG,
    Promotion,
    check_model_name,
    improvement,
    improves,
    promote,
    search_versions,
    select_champion,
)

MODEL_ARTIFACT_PATH = "model"  # where train_model logs the model files in its run
FINGERPRINT = "test_split_sha256"  # decision.json key and version tag: what the metrics were measured on
# evaluate's gate modes (gate.MODES; a test checks) that register whatever the checks said; any other mode enforces.
UNENFORCED_MODES = ("dry_run", "disabled")


def build_parser() -> ArgumentParser:
    """The flags component.yml's command passes; no defaults here (component.yml owns them)."""
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="candidate MLflow model folder")
    parser.add_argument("--evaluation", required=True, help="evaluate_model's output folder")
    parser.add_argument("--model_name", required=True)
    parser.add_argument("--data_asset", help="e.g. azureml:diabetes-training:1")
    parser.add_argument("--insights", help="responsible_ai_insights' output folder (tags and artifacts)")
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
    if decision.get(FINGERPRINT):
        tags[FINGERPRINT] = str(decision[FINGERPRINT])
    if data_asset:
        tags["data_asset"] = data_asset
    return tags


def rai_tags(folder: Path | None) -> dict[str, str]:
    """The version's Responsible AI tags from insights.json: the three most important features, the worst error
    cohort and the surrogate's fidelity."""
    if folder is None:
        return {}
    insights = read_json(folder / "insights.json", "written by responsible_ai_insights")
    try:
        top = [row["feature"] for row in insights["explanations"]["permutation"][:3]]
        cohorts = insights["error_analysis"]["tree_cohorts"]
        fidelity = insights["explanations"]["surrogate"]["fidelity"]
    except (KeyError, TypeError, IndexError) as exc:
        raise DataError(f"{folder / 'insights.json'}: missing {exc} (written by responsible_ai_insights?)") from None
    tags = {"rai_top_features": ",".join(top), "rai_surrogate_fidelity": repr(float(fidelity))}
    if cohorts:
        worst = cohorts[0]
        tags["rai_worst_cohort"] = f"{worst['conditions']} ({worst['error_rate']:.1%} of {worst['rows']} rows)"
    return tags


def champion_rule(decision: dict[str, Any], current: str | None, current_tags: dict[str, str]) -> tuple[bool, str]:
    """May the new version replace `current`, the champion now (None: there is none)? (promote, why).

    The gate compared the candidate with `decision["champion_version"]`. Same champion now, or none: promote. A
    different one (another run promoted it after this run's gate): with gate_mode enabled, apply the gate's
    improvement check again to the primary metric tagged on `current`, but only when its tags say it was measured
    on the same test split (`test_split_sha256`: same rows, target and positive class), which makes the tagged
    value the one the gate would have computed; without that, do not promote over a champion the candidate was
    never compared with. dry_run and disabled do not enforce the gate, so they promote either way.
    """
    compared = decision.get("champion_version")
    compared = None if compared is None else str(compared)
    if current is None:
        gone = f"champion version {compared}, the one the gate compared it with, is no longer champion"
        return True, "no champion to replace" if compared is None else f"{gone}; no champion to replace"
    if current == compared:
        return True, f"replaces champion version {current}, the one the gate compared it with"
    seen = f"version {compared}" if compared else "no champion"
    changed = f"the gate compared it with {seen}, but version {current} became the champion since"
    mode = decision.get("mode")
    if mode in UNENFORCED_MODES:
        return True, f"{changed}; gate_mode {mode} does not enforce the gate, so it replaces version {current}"
    gaps = _recheck_gaps(decision, current, current_tags)
    if gaps:
        return False, f"{changed}, and it cannot be compared with it ({'; '.join(gaps)}); not made champion"
    metric = decision["primary_metric"]
    champion_value = float(current_tags[metric])
    gain = improvement(float(decision["candidate_value"]), champion_value, decision["higher_is_better"])
    minimum = float(decision["min_improvement"])
    ok = improves(gain, minimum)
    return ok, (
        f"{changed}; the gate re-applied to its tagged {metric} {champion_value:.4f} (same test split): improvement "
        f"{gain:+.4f} {'>=' if ok else '<'} min_improvement {minimum:g}, so "
        + (f"it replaces version {current}" if ok else "not made champion")
    )


def _recheck_gaps(decision: dict[str, Any], current: str, current_tags: dict[str, str]) -> list[str]:
    """What is missing to re-apply the gate faithfully to champion `current` (empty: nothing)."""
    gaps = [
        f"decision.json has no {key}"
        for key, ok in (
            ("primary_metric", isinstance(decision.get("primary_metric"), str)),
            ("candidate_value", _number(decision.get("candidate_value")) is not None),
            ("higher_is_better", isinstance(decision.get("higher_is_better"), bool)),
            ("min_improvement", _number(decision.get("min_improvement")) is not None),
            (FINGERPRINT, bool(decision.get(FINGERPRINT))),
        )
        if not ok
    ]
    metric = decision.get("primary_metric")
    if _number(current_tags.get(str(metric))) is None:
        gaps.append(f"version {current} has no {metric} tag")
    if decision.get(FINGERPRINT) and current_tags.get(FINGERPRINT) != decision[FINGERPRINT]:
        gaps.append(f"version {current} was not evaluated on the same test split ({FINGERPRINT} differs or is absent)")
    return gaps


def register_and_promote(
    client: Any,
    model_name: str,
    source: str,
    decision: dict[str, Any],
    tags: dict[str, str],
    register_version: Callable[[str, str], Any] | None = None,
    alive: Callable[[], None] = check_engine_alive,
) -> dict[str, Any]:
    """Register `source`, tag the version and make it the champion if `champion_rule` allows. Call it holding the
    registry lock: what it returns (the registration record) is then true until the lock is let go."""
    alive()
    version = (register_version or register)(source, model_name)
    number = str(version.version)
    current = select_champion(search_versions(client, model_name))
    now = None if current is None else str(current.version)
    allowed, why = champion_rule(decision, now, _tags(current))
    alive()
    for key, value in tags.items():
        client.set_model_version_tag(model_name, number, key, value)
    if allowed:
        promotion = promote(client, model_name, number)
        if not promotion.champion:
            why = f"version {promotion.newer} is newer and was made champion by another run; this one stepped back"
    else:
        client.set_model_version_tag(model_name, number, CHAMPION_TAG, "false")
        promotion = Promotion(champion=False)
    return {
        "registered": True,
        "model_name": model_name,
        "version": number,
        "source": source,
        "champion": promotion.champion,
        "previous_champion_version": promotion.replaced,
        "demoted_versions": list(promotion.demoted),
        "compared_champion_version": decision.get("champion_version"),
        "champion_reason": why,
        "tags": {**tags, CHAMPION_TAG: str(promotion.champion).lower()},
    }


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
    try:
        _main(argv)
    except EngineGone as exc:  # the step fails (exit 1) with one line, and has not touched the registry since
        print(f"error: register_model: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_ENGINE_GONE)


def _main(argv: Sequence[str] | None) -> None:
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
        tags = version_tags(metrics, decision, lineage_tags(own_tags, dict(os.environ)), run_id, args.data_asset)
        insights = Path(args.insights) if args.insights else None
        tags |= rai_tags(insights)
        if insights is not None:  # the report beside the model it describes, on the training run
            client.log_artifacts(run_id, str(insights), artifact_path="rai")
        with registry_lock():
            record = register_and_promote(client, model_name, source, decision, tags)
            _write(out, record)
        mlflow.set_tags(
            {
                "registration.registered": "true",
                "registration.model_name": model_name,
                "registration.version": record["version"],
                "registration.champion": str(record["champion"]).lower(),
            }
        )
    print(
        f"register_model: {model_name} version {record['version']} registered from {source}; "
        + ("champion" if record["champion"] else "not champion")
        + f" ({record['champion_reason']})"
    )


def _tags(version: Any) -> dict[str, str]:
    return dict(getattr(version, "tags", None) or {}) if version is not None else {}


def _number(value: Any) -> float | None:
    """A finite number (a float tag is text), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _write(folder: Path, record: dict[str, Any]) -> None:
    (folder / "registration.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_main(main)
