"""`mlops`: the command line. It parses arguments and calls a target; exit codes are for CI.

0 ok · 1 a step or check failed · 2 bad usage or bad input (the one-line reason says which file/field) ·
128 + N stopped by signal N: 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP. A stop signal raises `Interrupted` in
the main thread: what runs is stopped and recorded (a step's process group, its MLflow runs marked KILLED, a
server), and one line says so, without a traceback. Every verb that uses the local state first marks the RUNNING
runs of a dead `mlops` FAILED (`common.sweep_stale_runs`).

Each verb lives in its own module beside its handler: `register(verbs, flags)` adds the verb's parser and sets
`func=` to the handler. Handlers import the engine lazily, so `mlops --help` stays instant.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable

from mlops.cli import (
    azure_verbs,
    batch_verbs,
    init_verbs,
    job_verbs,
    monitor_verbs,
    online_verbs,
    run_verbs,
    schedule_verbs,
    validate_verbs,
)
from mlops.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, SharedFlags, sweep_stale_runs
from mlops.errors import STOP_SIGNALS, Interrupted, MlopsError, StepFailed

# In the order `mlops --help` lists them.
VERB_MODULES = (
    run_verbs,
    init_verbs,
    job_verbs,
    validate_verbs,
    online_verbs,
    batch_verbs,
    monitor_verbs,
    schedule_verbs,
    azure_verbs,
)


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

    def run() -> int:
        sweep_stale_runs(args)
        return args.func(args)

    return guarded(run)


def guarded(run: Callable[[], int]) -> int:
    """Run a command the way every `mlops` verb runs: stop signals become `Interrupted`, and errors become one line
    and an exit code (1 a step or check failed, 2 bad input, 128+N a signal). Scripts use it too
    (pipelines/train_pipeline.py --local)."""
    previous = _raise_on_stop_signals()
    try:
        return run()
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        print(exc.summary(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # a SIGINT that came before our handler, or outside the main thread
        interrupted = Interrupted(signal.SIGINT)
        print(interrupted.summary(), file=sys.stderr)
        return interrupted.exit_code
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_on_stop_signals() -> dict[int, object]:
    """Turn the first SIGINT/SIGTERM/SIGHUP into `Interrupted` in the main thread; later ones are ignored while
    the first one's cleanup runs (it is bounded: a step gets a grace, then SIGKILL). Returns the old handlers."""
    if not _in_main_thread():
        return {}
    fired: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if not fired:
            fired.append(signum)
            raise Interrupted(signum)

    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
