"""One error type for bad input, and the wrapper that turns it into a one-line message and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

EXIT_BAD_INPUT = 2


class DataError(Exception):
    """Bad input: the message names the file, field or column and says what was expected (one line)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors (missing or malformed arguments) are DataErrors: one `error: ...` line, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise DataError(f"{self.prog}: {message}")


def run_main(fn: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None) -> NoReturn:
    """Run a component's `main(argv)`; a DataError becomes `error: ...` on stderr and exit code 2.

    Other exceptions keep their traceback: they are bugs or infrastructure failures, not bad input.
    """
    try:
        fn(argv)
    except DataError as exc:
        message = " ".join(str(exc).split())  # always one line
        print(f"error: {message}", file=sys.stderr, flush=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(0)
