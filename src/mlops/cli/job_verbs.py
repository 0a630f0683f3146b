"""`mlops job run FILE` (alias `mlops pipeline run FILE`): a command or pipeline job YAML on the local target or on
Azure, like `az ml job create --file FILE`."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client, layout
from mlops.errors import MlopsError


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    for verb, what in (("job", "jobs (command, pipeline)"), ("pipeline", "pipeline jobs (the same as `mlops job`)")):
        actions = verbs.add_parser(verb, help=what).add_subparsers(dest="action", required=True)
        run = actions.add_parser("run", parents=[flags.run, flags.target, flags.wait], help="run a job YAML")
        run.add_argument("file", type=Path, help="job YAML (type: command or pipeline), e.g. pipelines/train.yml")
        run.add_argument(
            "--build-envs",
            action="store_true",
            help="local target: run each step in a venv built (once, cached) from its environment's pip packages",
        )
        run.set_defaults(func=submit)


def submit(args: argparse.Namespace) -> int:
    if args.build_envs and args.target == "azure":
        raise MlopsError("--build-envs goes with the local target (Azure builds environments itself)")
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

    run = jobs.submit(
        args.file, args.overrides, force_rerun=args.force_rerun, stream_logs=args.stream, build_envs=args.build_envs
    )
    for name, path in run.outputs.items():
        print(f"  output {name}: {path}")
    # The metrics and the gate's verdict: a declined candidate is a successful run, but it must read as a decline.
    print(training_summary(run.outputs, run.state.root, run.run_dir))
    return EXIT_OK
