"""GitHub Actions step outputs: workflows read these instead of parsing what the CLI prints."""

from __future__ import annotations

import os


def write_outputs(values: dict[str, str]) -> None:
    """In GitHub Actions, append `key=value` lines to `$GITHUB_OUTPUT`; elsewhere do nothing."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")
