"""`mlops run`: the whole loop on the local target (what `make run` does)."""

from __future__ import annotations

import argparse

from mlops.cli.common import EXIT_OK, SharedFlags, model_layout


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    run = verbs.add_parser(
        "run",
        parents=[flags.run, flags.model_name],
        help="train, serve, batch-score and monitor one model locally, then print a summary",
    )
    run.set_defaults(func=run_loop)


def run_loop(args: argparse.Namespace) -> int:
    from mlops.targets.local import loop

    model = model_layout(args.model)
    result = loop.run_loop(model, args.overrides, force_rerun=args.force_rerun, stream=args.stream)
    print()
    print(loop.summary(result))
    return EXIT_OK
