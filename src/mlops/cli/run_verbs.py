"""`mlops run`: the whole loop on the local target (what `make run` does)."""

from __future__ import annotations

import argparse

from mlops.cli.common import EXIT_OK, SharedFlags, layout


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    run = verbs.add_parser(
        "run",
        parents=[flags.run],
        help="train, serve, batch-score and monitor on the sample data locally, then print a summary",
    )
    run.set_defaults(func=run_loop)


def run_loop(args: argparse.Namespace) -> int:
    from mlops.targets.local import loop

    result = loop.run_loop(layout(), args.overrides, force_rerun=args.force_rerun, stream=args.stream)
    print()
    print(loop.summary(result))
    return EXIT_OK
