"""`mlops`: the command line. It parses arguments and calls the engine; exit codes are for CI.

0 ok · 1 a step or check failed · 2 bad usage or bad input (the one-line reason says which file/field).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlops.errors import MlopsError, StepFailed

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops", description="Azure ML template: run the same YAML locally or on Azure."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    run = verbs.add_parser("run", help="train on the sample data locally and print a summary (what `make run` does)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--force-rerun", action="store_true", help="run every step even when it could be reused")
    run.add_argument("--stream", action="store_true", help="show each step's log as it runs")

    pipeline = verbs.add_parser("pipeline", help="pipeline jobs").add_subparsers(dest="action", required=True)
    pipeline_run = pipeline.add_parser("run", help="run a pipeline job YAML")
    pipeline_run.add_argument("file", type=Path, help="pipeline job YAML, e.g. pipelines/train.yml")
    pipeline_run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field like `az ml job create --set`, e.g. --set inputs.estimator=random_forest",
    )
    pipeline_run.add_argument("--force-rerun", action="store_true", help="run every step even when it could be reused")
    pipeline_run.add_argument("--stream", action="store_true", help="show each step's log as it runs")
    pipeline_run.add_argument(
        "--target", choices=["local", "azure"], default="local", help="where to run (default: local)"
    )
    pipeline_run.add_argument("--wait", action="store_true", help="azure: stream the job and exit non-zero if it fails")

    azure = verbs.add_parser("azure", help="the Azure ML workspace").add_subparsers(dest="action", required=True)
    azure.add_parser(
        "ensure",
        help="create or update compute, environments, data assets and components from the repo's YAML (idempotent)",
    )

    validate = verbs.add_parser("validate", help="load every Azure ML YAML offline and check what the SDK misses")
    validate.add_argument("files", nargs="*", type=Path, help="only these files (default: the whole repo)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.verb == "validate":
            return _validate(args.files)
        if args.verb == "pipeline":
            if args.target == "azure":
                return _pipeline_run_azure(args.file, args.overrides, args.wait)
            if args.wait:
                raise MlopsError("--wait goes with --target azure (a local run always runs to the end)")
            return _pipeline_run(args.file, args.overrides, args.force_rerun, args.stream)
        if args.verb == "azure":
            return _azure_ensure()
        if args.verb == "run":
            return _run(args.overrides, args.force_rerun, args.stream)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT


def _validate(files: list[Path]) -> int:
    from mlops.project import find_root
    from mlops.validate import discover, validate_files

    root = find_root()
    targets = [f.resolve() for f in files] or discover(root)
    missing = [f for f in targets if not f.exists()]
    if missing:
        raise MlopsError(f"{missing[0]}: file not found")
    problems = validate_files(root, targets)
    for problem in problems:
        print(problem.render(root))
    if problems:
        print(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s); {len(targets)} checked")
        return EXIT_FAILED
    print(f"{len(targets)} file(s) valid")
    return EXIT_OK


def _pipeline_run(file: Path, overrides: list[str], force_rerun: bool, stream: bool) -> int:
    from mlops.executor import run_pipeline

    run = run_pipeline(file, overrides, force_rerun=force_rerun, stream_logs=stream)
    for name, path in run.outputs.items():
        print(f"  output {name}: {path}")
    return EXIT_OK


def _azure_client(root: Path):
    from mlops import azure

    config = azure.workspace_config(root)
    print(f"workspace {config.workspace_name} (resource group {config.resource_group})")
    return azure.ml_client(config)


def _pipeline_run_azure(file: Path, overrides: list[str], wait: bool) -> int:
    from mlops import azure
    from mlops.project import find_root

    root = find_root()
    azure.submit_pipeline(_azure_client(root), root, file.resolve(), overrides, wait=wait)
    return EXIT_OK


def _azure_ensure() -> int:
    from mlops import azure
    from mlops.project import find_root

    root = find_root()
    azure.ensure(_azure_client(root), azure.repo_definitions(root))
    return EXIT_OK


def _run(overrides: list[str], force_rerun: bool, stream: bool) -> int:
    from mlops.executor import run_pipeline
    from mlops.project import TRAIN_PIPELINE, find_root

    root = find_root()
    run = run_pipeline(root / TRAIN_PIPELINE, overrides, force_rerun=force_rerun, stream_logs=stream)
    print()
    print(training_summary(run.outputs, run.state.root, run.run_dir))
    return EXIT_OK


def training_summary(outputs: dict[str, Path], state_root: Path, run_dir: Path) -> str:
    """Metrics, the gate's decision, the registered version and where everything is."""
    lines = []
    evaluation = outputs.get("evaluation")
    if evaluation and (evaluation / "metrics.json").is_file():
        metrics = json.loads((evaluation / "metrics.json").read_text())
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, int | float))
        lines.append(f"metrics (test split): {shown}")
    if evaluation and (evaluation / "decision.json").is_file():
        decision = json.loads((evaluation / "decision.json").read_text())
        lines.append(f"gate ({decision.get('mode')}): {decision.get('reason')}")
    registration = outputs.get("registration")
    if registration and (registration / "registration.json").is_file():
        info = json.loads((registration / "registration.json").read_text())
        if info.get("registered"):
            lines.append(f"registered: {info['model_name']} version {info['version']} (champion)")
        else:
            lines.append(f"not registered: {info.get('reason')}")
    lines += [
        f"run folder: {run_dir}",
        f"local state: {state_root} (delete it for a clean slate)",
        f"MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///{state_root / 'mlflow.db'} --port 5000",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
