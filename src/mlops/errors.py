"""User-facing errors: the CLI prints their message on one line and exits non-zero, without a traceback."""


class MlopsError(Exception):
    """A problem the user can fix (bad YAML, a missing file, a failed step)."""


class StepFailed(MlopsError):
    """A pipeline step exited non-zero; the message already names the step, exit code and log."""
