"""User-facing errors: the CLI prints their message on one line and exits non-zero, without a traceback."""

from __future__ import annotations

import signal


class MlopsError(Exception):
    """A problem the user can fix (bad YAML, a missing file, a failed step)."""


class AzureOnly(MlopsError):
    """Valid Azure ML YAML that the local target cannot run (the message says why; `--target azure` submits it)."""


class StepFailed(MlopsError):
    """A pipeline step exited non-zero; the message already names the step, exit code and log."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # what `mlops` turns into Interrupted


class Interrupted(BaseException):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) reached `mlops`.

    Raised by the CLI's signal handler in the main thread, so every cleanup on the way up runs: the step's process
    group is stopped, its MLflow runs are marked KILLED, a server is stopped. A BaseException, like
    KeyboardInterrupt, so no `except Exception` swallows it. Whoever cleans up adds what it did to `stopped`; the CLI
    prints one line and exits with 128 + the signal number (the shell's convention: 130, 143, 129).
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.stopped: list[str] = []

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def summary(self) -> str:
        done = "; ".join(self.stopped) if self.stopped else "nothing was running"
        return f"mlops: interrupted by {self.signal_name}; {done}"
