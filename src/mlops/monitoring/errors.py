"""The one error type of the local monitor: bad input the user can fix, with the file, field or column named."""

from __future__ import annotations

from mlops.errors import MlopsError


class MonitorInputError(MlopsError):
    """Missing or empty data, a missing column, a monitor YAML the local monitor cannot honour.

    A subclass of `MlopsError`, so the CLI prints the message on one line and exits non-zero.
    """
