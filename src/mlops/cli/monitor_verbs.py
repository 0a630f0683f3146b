"""`mlops monitor`: the local monitor on a window of production data, or the monitor schedule on Azure."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_FAILED, EXIT_OK, SharedFlags, azure_client, model_layout
from mlops.errors import MlopsError


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    monitor = verbs.add_parser(
        "monitor",
        parents=[flags.target, flags.model_name],
        help="model monitoring: local drift/quality/performance, or the Azure monitor",
    )
    monitor.add_argument("--config", type=Path, help="monitor schedule YAML (default: the model's monitor)")
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
    monitor.set_defaults(func=run_monitor)


def run_monitor(args: argparse.Namespace) -> int:
    model = model_layout(args.model)
    config = (args.config or model.monitor_config).resolve()
    if args.target == "azure":
        from mlops.targets.azure import monitor

        monitor.schedule(azure_client(model.project), config)
        return EXIT_OK
    if args.predictions and not args.production:
        raise MlopsError("--predictions goes with --production")
    if args.production and args.collected:
        raise MlopsError("give either --collected or --production, not both")
    from datetime import UTC, datetime

    from mlops.monitoring import MonitorInputError
    from mlops.targets.local import monitor

    model.state.ensure()
    window = args.window or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        if args.production:
            data = monitor.batch_window(model.project, args.production, args.predictions, window)
        else:
            data = monitor.collected_window(args.collected or _local_collected(model), window)
        result = monitor.run(model, data, config_path=config, ground_truth=args.ground_truth, history_dir=args.history)
    except MonitorInputError as exc:
        raise MlopsError(str(exc)) from exc
    print(result.summary())
    monitor.write_github_outputs(result)
    if args.retrain and result.retrain.retrain:
        from mlops.targets.local import jobs

        print(f"retraining {model.name}: the retrain rule says so ({model.project.relative(model.pipeline)})")
        jobs.submit(model.pipeline, [])
    return EXIT_FAILED if result.breached else EXIT_OK


def _local_collected(model) -> Path:
    """Where the local endpoint collects the model's traffic on its live deployment."""
    from mlops.targets.local.online import Deployment

    deployment = Deployment.from_yaml(model.live_deployment)
    return model.state.collected_for(deployment.endpoint, deployment.name, model.name)
