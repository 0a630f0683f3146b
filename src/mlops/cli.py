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

    serve = verbs.add_parser("serve", help="serve a registered model with the Azure ML inference server on 127.0.0.1")
    serve.add_argument(
        "--model", help="NAME:VERSION, or NAME for its champion (default: the training pipeline's model)"
    )
    serve.add_argument("--port", type=int, default=5001)
    serve.add_argument("--deployment", type=Path, help="online deployment YAML (default: endpoints/online/blue.yml)")

    invoke = verbs.add_parser("invoke", help="send a scoring request to the local server")
    invoke.add_argument("--file", type=Path, help="request JSON (default: endpoints/online/sample-request.json)")
    invoke.add_argument("--url", help="server URL (default: the one `mlops serve` recorded)")

    batch = verbs.add_parser(
        "batch-score", help="score files with the batch deployment's script, like a batch endpoint"
    )
    batch.add_argument("input", type=Path, help="a CSV/parquet file or a folder of them")
    batch.add_argument("--output", type=Path, help="output folder (default: a new folder under .mlops/batch/)")
    batch.add_argument(
        "--model", help="NAME:VERSION, or NAME for its champion (default: the training pipeline's model)"
    )
    batch.add_argument(
        "--deployment", type=Path, help="batch deployment YAML (default: endpoints/batch/deployment.yml)"
    )
    batch.add_argument("--target", choices=["local", "azure"], default="local")
    batch.add_argument("--wait", action="store_true", help="azure: stream the batch job and fail if it fails")

    deploy = verbs.add_parser("deploy", help="deploy to Azure ML endpoints").add_subparsers(dest="kind", required=True)
    online = deploy.add_parser("online", help="managed online endpoint: deploy and safe rollout (one action per call)")
    online.add_argument("--endpoint-name", help="override the name in endpoints/online/endpoint.yml")
    action = online.add_mutually_exclusive_group(required=True)
    action.add_argument("--deployment", help="create or update this deployment (endpoints/online/<name>.yml)")
    action.add_argument("--traffic", metavar="SPEC", help="shift live traffic, e.g. blue=90,green=10")
    action.add_argument(
        "--mirror", metavar="SPEC", help="mirror a share of live traffic, e.g. green=10 (green=0 stops)"
    )
    action.add_argument("--test", metavar="DEPLOYMENT", help="score --file on one deployment directly")
    action.add_argument("--rollback", metavar="DEPLOYMENT", help="send all traffic back to this deployment")
    action.add_argument("--delete", metavar="DEPLOYMENT", help="delete a deployment that takes no traffic")
    online.add_argument("--model", help="with --deployment: registered model NAME:VERSION")
    online.add_argument(
        "--file", type=Path, help="with --test: request JSON (default: endpoints/online/sample-request.json)"
    )
    batch_deploy = deploy.add_parser("batch", help="batch endpoint and its deployment (endpoints/batch/)")
    batch_deploy.add_argument("--model", help="registered model NAME:VERSION (default: the YAML's)")

    monitor = verbs.add_parser(
        "monitor", help="model monitoring: local drift/quality/performance, or the Azure monitor"
    )
    monitor.add_argument("--target", choices=["local", "azure"], default="local")
    monitor.add_argument("--config", type=Path, help="monitor schedule YAML (default: monitoring/monitor.yml)")
    monitor.add_argument(
        "--collected",
        type=Path,
        help="a data-collector folder with model_inputs/ and model_outputs/ (default: the local endpoint's)",
    )
    monitor.add_argument(
        "--production", type=Path, help="model inputs of a batch (CSV/parquet), instead of --collected"
    )
    monitor.add_argument("--predictions", type=Path, help="with --production: the batch's predictions file")
    monitor.add_argument(
        "--ground-truth", type=Path, help="labels by id (default: the monitor YAML's ground-truth asset)"
    )
    monitor.add_argument("--window", help="name of this monitoring window (default: a UTC timestamp)")
    monitor.add_argument(
        "--history", type=Path, help="history folder for the retrain rule (default: .mlops/monitoring/history)"
    )
    monitor.add_argument(
        "--retrain", action="store_true", help="run the training pipeline when the retrain rule says so"
    )

    promote = verbs.add_parser("promote", help="copy a workspace model version into an Azure ML registry (dev -> prod)")
    promote.add_argument("--model", required=True, help="workspace model NAME:VERSION")
    promote.add_argument("--registry", required=True, help="registry name (infra/azureml/registry.yml)")

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
                # Azure honours the same switch as a job setting; the local flag would otherwise be ignored there.
                overrides = [*args.overrides, *(["settings.force_rerun=true"] if args.force_rerun else [])]
                return _pipeline_run_azure(args.file, overrides, args.wait)
            if args.wait:
                raise MlopsError("--wait goes with --target azure (a local run always runs to the end)")
            return _pipeline_run(args.file, args.overrides, args.force_rerun, args.stream)
        if args.verb == "azure":
            return _azure_ensure()
        if args.verb == "serve":
            return _serve(args.model, args.port, args.deployment)
        if args.verb == "invoke":
            return _invoke(args.file, args.url)
        if args.verb == "batch-score":
            if args.target == "azure":
                return _batch_score_azure(args.input, args.wait)
            return _batch_score(args.input, args.output, args.model, args.deployment)
        if args.verb == "deploy":
            return _deploy(args)
        if args.verb == "monitor":
            return _monitor(args)
        if args.verb == "promote":
            return _promote(args.model, args.registry)
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


def _local_model(root: Path, state, spec: str | None):
    from mlops import serving

    return serving.resolve_model(state, spec or serving.default_model_name(root))


def _serve(model: str | None, port: int, deployment: Path | None) -> int:
    import time

    from mlops import serving
    from mlops.project import StateDir, find_root

    root = find_root()
    state = StateDir.for_project(root).ensure()
    server = serving.start_server(root, state, _local_model(root, state, model), port, deployment)
    print(f"serving {server.model} at {server.url}/score (pid {server.pid}); log {server.log}; Ctrl-C stops it")
    with server:
        try:
            while server.process and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopping")
    return EXIT_OK


def _invoke(file: Path | None, url: str | None) -> int:
    from mlops import serving
    from mlops.project import StateDir, find_root

    root = find_root()
    request = file or root / "endpoints" / "online" / "sample-request.json"
    if not request.is_file():
        raise MlopsError(f"{request}: file not found")
    status, body = serving.invoke(url or serving.running_server_url(StateDir.for_project(root)), request.read_bytes())
    print(json.dumps(body, indent=2) if not isinstance(body, str) else body)
    return EXIT_OK if status < 400 else EXIT_FAILED


def _batch_score(input_path: Path, output: Path | None, model: str | None, deployment: Path | None) -> int:
    from datetime import UTC, datetime

    from mlops import batch, serving
    from mlops.project import StateDir, find_root

    root = find_root()
    state = StateDir.for_project(root).ensure()
    settings = batch.BatchSettings.from_yaml(deployment or root / "endpoints" / "batch" / "deployment.yml")
    ref = _local_model(root, state, model)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = output or state.root / "batch" / f"{input_path.stem}-{stamp}"
    batch.run_batch(settings, serving.materialize(state, ref), input_path.resolve(), out, out / "logs" / "worker.log")
    return EXIT_OK


def _batch_score_azure(input_path: Path, wait: bool) -> int:
    from mlops import azure
    from mlops.project import find_root

    root = find_root()
    azure.invoke_batch(_azure_client(root), root, str(input_path), wait)
    return EXIT_OK


def _monitor(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from mlops import monitor_run
    from mlops.monitoring import MonitorInputError
    from mlops.project import StateDir, find_root

    root = find_root()
    config = (args.config or root / monitor_run.DEFAULT_CONFIG).resolve()
    if args.target == "azure":
        from mlops import azure

        azure.create_monitor(_azure_client(root), config)
        return EXIT_OK
    if args.predictions and not args.production:
        raise MlopsError("--predictions goes with --production")
    if args.production and args.collected:
        raise MlopsError("give either --collected or --production, not both")
    state = StateDir.for_project(root).ensure()
    window = args.window or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        if args.production:
            data = monitor_run.batch_window(args.production, args.predictions, window)
        else:
            data = monitor_run.collected_window(args.collected or _local_collected(root, state), window)
        result = monitor_run.monitor_window(
            root, state, data, config_path=config, ground_truth=args.ground_truth, history_dir=args.history
        )
    except MonitorInputError as exc:
        raise MlopsError(str(exc)) from exc
    print(result.summary())
    monitor_run.write_github_outputs(result)
    if args.retrain and result.retrain.retrain:
        from mlops.executor import run_pipeline
        from mlops.project import TRAIN_PIPELINE

        print("retraining: the retrain rule says so")
        run_pipeline(root / TRAIN_PIPELINE, [])
    return EXIT_FAILED if result.breached else EXIT_OK


def _local_collected(root: Path, state) -> Path:
    from mlops import serving

    deployment = serving.Deployment.from_yaml(root / serving.DEFAULT_DEPLOYMENT)
    return state.root / "collected" / deployment.endpoint / deployment.name


def _promote(model: str, registry: str) -> int:
    from mlops import azure
    from mlops.project import find_root

    print(azure.promote_model(_azure_client(find_root()), model, registry))
    return EXIT_OK


def _deploy(args: argparse.Namespace) -> int:
    from mlops import azure
    from mlops.project import find_root

    root = find_root()
    if args.kind == "batch":
        azure.deploy_batch(_azure_client(root), root, args.model)
        return EXIT_OK
    if args.model and not args.deployment:
        raise MlopsError("--model goes with --deployment")
    rollout = azure.OnlineRollout(_azure_client(root), root, args.endpoint_name)
    if args.deployment:
        rollout.deploy(args.deployment, args.model)
    elif args.traffic:
        rollout.set_traffic(args.traffic)
    elif args.mirror:
        rollout.set_mirror(args.mirror)
    elif args.test:
        rollout.test(args.test, args.file or root / "endpoints" / "online" / "sample-request.json")
    elif args.rollback:
        rollout.rollback(args.rollback)
    elif args.delete:
        rollout.delete(args.delete)
    return EXIT_OK


def _run(overrides: list[str], force_rerun: bool, stream: bool) -> int:
    from mlops import loop
    from mlops.project import find_root

    result = loop.run_loop(find_root(), overrides, force_rerun=force_rerun, stream=stream)
    print()
    print(loop.summary(result))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
