"""`mlops`: the command line. It parses arguments and calls a target; exit codes are for CI.

0 ok · 1 a step or check failed · 2 bad usage or bad input (the one-line reason says which file/field).

Each verb lives in its own module beside its handler: `register(verbs, flags)` adds the verb's parser and sets
`func=` to the handler. Handlers import the engine lazily, so `mlops --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys

from mlops.cli import (
    azure_verbs,
    batch_verbs,
    init_verbs,
    job_verbs,
    monitor_verbs,
    online_verbs,
    run_verbs,
    validate_verbs,
)
from mlops.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, SharedFlags
from mlops.errors import MlopsError, StepFailed

# In the order `mlops --help` lists them.
VERB_MODULES = (run_verbs, init_verbs, job_verbs, validate_verbs, online_verbs, batch_verbs, monitor_verbs, azure_verbs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops", description="Azure ML template: run the same YAML locally or on Azure."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    flags = SharedFlags()
    for module in VERB_MODULES:
        module.register(verbs, flags)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
