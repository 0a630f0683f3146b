"""`mlops monitor`: the local monitor on a window of production data, or the monitor schedule on Azure.

Locally the report also has an operations section (request count, 4xx/5xx rates, latency percentiles per
deployment) from the endpoint's operational records; `--ops-only` reports that section alone. Each run also
rewrites the history page (history.html next to the history file); `mlops monitor history` prints the same
verdicts per window as a table."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_FAILED, EXIT_OK, SharedFlags, azure_client, model_layout
from mlops.errors import MlopsError


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    # Which monitor and which history: the same two flags for a run and for `history`.
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--config", type=Path, help="monitor schedule YAML (default: the model's monitor)")
    which.add_argument(
        "--history",
        type=Path,
        help="history folder for the retrain rule and the history page (default: .mlops/monitoring/history/<model>)",
    )
    monitor = verbs.add_parser(
        "monitor",
        parents=[flags.target, flags.model_name, which],
        help="model monitoring: local drift/quality/performance, or the Azure monitor",
    )
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
        "--retrain", action="store_true", help="run the training pipeline when the retrain rule says so"
    )
    ops = monitor.add_argument_group("operations (local endpoint: request count, error rates, latency)")
    ops.add_argument(
        "--ops-only",
        action="store_true",
        help="report only the endpoint's operational metrics, without the model signals",
    )
    ops.add_argument("--max-p95-ms", type=_limit("--max-p95-ms"), help="breach when p95 latency exceeds this (ms)")
    ops.add_argument(
        "--max-4xx-rate", type=_limit("--max-4xx-rate", rate=True), help="breach above this share of 4xx (0..1)"
    )
    ops.add_argument(
        "--max-5xx-rate", type=_limit("--max-5xx-rate", rate=True), help="breach above this share of 5xx (0..1)"
    )
    monitor.set_defaults(func=run_monitor)

    actions = monitor.add_subparsers(dest="action", metavar="ACTION")
    history = actions.add_parser(
        "history",
        parents=[flags.target, flags.model_name, which],
        help="the verdict of each monitored window, the retrain rule's count, and the history page",
    )
    history.add_argument("--last", type=_positive("--last"), default=20, help="show the latest N windows (default: 20)")
    history.set_defaults(func=run_history)


def _limit(flag: str, rate: bool = False):
    """An argparse type: a number >= 0 (and <= 1 for a rate), the error naming the flag."""

    def parse(text: str) -> float:
        import math

        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (rate and value > 1):
            raise argparse.ArgumentTypeError(f"{flag}: expected {'0..1' if rate else 'a number >= 0'}, got {text!r}")
        return value

    return parse


def _positive(flag: str):
    """An argparse type: an integer >= 1, the error naming the flag."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected a whole number >= 1, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag}: expected a whole number >= 1, got {text!r}")
        return value

    return parse


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
    if args.ops_only and args.production:
        raise MlopsError("--ops-only reads the endpoint's collected records: give --collected, not --production")
    from datetime import UTC, datetime

    from mlops.monitoring import MonitorInputError
    from mlops.monitoring.operational import Thresholds
    from mlops.targets.local import monitor

    model.state.ensure()
    window = args.window or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    thresholds = Thresholds(args.max_p95_ms, args.max_4xx_rate, args.max_5xx_rate)
    try:
        operations = None
        if not args.production:
            folders = [args.collected / "operational"] if args.collected else _local_operational(model)
            operations = monitor.operational_report(folders, thresholds, config)
        if args.ops_only:
            path = monitor.operations_only(model, operations, window)
            print("\n".join(operations.summary_lines()))
            print(f"Report: {path}")
            return EXIT_FAILED if operations.breached else EXIT_OK
        if args.production:
            data = monitor.batch_window(model.project, args.production, args.predictions, window)
        else:
            data = monitor.collected_window(args.collected or _local_collected(model), window)
        result = monitor.run(
            model,
            data,
            config_path=config,
            ground_truth=args.ground_truth,
            history_dir=args.history,
            operational=operations,
        )
    except MonitorInputError as exc:
        raise MlopsError(str(exc)) from exc
    print(result.summary())
    monitor.write_github_outputs(result)
    if operations is not None and operations.breached:
        return EXIT_FAILED
    if args.retrain and result.retrain.retrain:
        from mlops.targets.local import jobs

        print(f"retraining {model.name}: the retrain rule says so ({model.project.relative(model.pipeline)})")
        jobs.submit(model.pipeline, [])
    return EXIT_FAILED if result.breached else EXIT_OK


def run_history(args: argparse.Namespace) -> int:
    """The monitor's windows, latest last, as a table; rewrites the history page and prints its path."""
    model = model_layout(args.model)
    if args.target == "azure":
        raise MlopsError(
            "mlops monitor history reads the local monitor's history; on Azure, each monitor's runs and signal "
            "values are on its page in Azure ML studio (Monitoring)"
        )
    from mlops.monitoring import MonitorInputError, load_config
    from mlops.monitoring.history import history_path
    from mlops.monitoring.trends import history_table, load_windows, write_history_page
    from mlops.targets.local import monitor

    config_path = (args.config or model.monitor_config).resolve()
    history_dir = args.history or monitor.history_folder(model)
    try:
        config = load_config(config_path)
        records, total = load_windows(history_dir, config, monitor.reports_folder(model), last=args.last)
        if not records:
            raise MlopsError(
                f"no monitoring history yet for {config.name} in {history_path(history_dir)}: `mlops monitor` "
                "adds a line per window"
            )
        page = write_history_page(history_dir, config, monitor.reports_folder(model))
    except MonitorInputError as exc:
        raise MlopsError(str(exc)) from exc
    shown = f"the latest {len(records)} of {total}" if total > len(records) else f"{total}"
    print(f"Monitor {config.name}: {shown} window(s), oldest first")
    print("\n".join(history_table(records, config)))
    print(f"Monitor history: {page}")
    return EXIT_OK


def _local_collected(model) -> Path:
    """Where the local endpoint collects the model's traffic on its live deployment."""
    from mlops.targets.local.online import Deployment

    deployment = Deployment.from_yaml(model.live_deployment)
    return model.state.collected_for(deployment.endpoint, deployment.name, model.name)


def _local_operational(model) -> list[Path]:
    """The operational records of the model on every deployment of the live deployment's endpoint, live first
    (the signals read the live deployment only, as Azure's monitor targets one deployment)."""
    live = _local_collected(model)
    endpoint = live.parent.parent
    others = sorted(p for p in endpoint.glob(f"*/{model.name}") if p != live) if endpoint.is_dir() else []
    return [folder / "operational" for folder in (live, *others)]
