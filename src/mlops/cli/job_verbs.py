"""`mlops pipeline run FILE`: a job YAML on the local target or on Azure."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client, layout
from mlops.errors import MlopsError


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    actions = verbs.add_parser("pipeline", help="pipeline jobs").add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", parents=[flags.run, flags.target, flags.wait], help="run a pipeline job YAML")
    run.add_argument("file", type=Path, help="pipeline job YAML, e.g. pipelines/train.yml")
    run.set_defaults(func=submit)


def submit(args: argparse.Namespace) -> int:
    if args.target == "azure":
        from mlops.targets.azure import jobs

        project = layout()
        # Azure honours the same switch as a job setting; the local flag would otherwise be ignored there.
        overrides = [*args.overrides, *(["settings.force_rerun=true"] if args.force_rerun else [])]
        jobs.submit(azure_client(project), project, args.file.resolve(), overrides, wait=args.wait)
        return EXIT_OK
    if args.wait:
        raise MlopsError("--wait goes with --target azure (a local run always runs to the end)")
    from mlops.targets.local import jobs
    from mlops.targets.local.loop import training_summary

    run = jobs.submit(args.file, args.overrides, force_rerun=args.force_rerun, stream_logs=args.stream)
    for name, path in run.outputs.items():
        print(f"  output {name}: {path}")
    # The metrics and the gate's verdict: a declined candidate is a successful run, but it must read as a decline.
    print(training_summary(run.outputs, run.state.root, run.run_dir))
    return EXIT_OK
