"""Literal parameter inputs (string, integer, number, boolean) checked against a component input's declared type,
`enum`, `min` and `max`, as Azure ML checks them on submission. One rule for `mlops validate` (project.pipeline)
and for a local run (targets.local.jobs), so both refuse the same values with the same words."""

from __future__ import annotations

import math
from typing import Any

from mlops.errors import MlopsError

PARAMETER_TYPES = {"string", "integer", "number", "boolean"}


def check_parameter(step: str, name: str, port: Any, value: Any) -> str:
    """Coerce a literal input to its declared type and check enum/min/max, as Azure does on submission."""
    where = f"jobs.{step}.inputs.{name}"
    kind = str(port.type)
    text = str(value)
    number: float | None = None
    if kind == "integer":
        try:
            number = int(float(text)) if float(text).is_integer() else None
        except (ValueError, OverflowError):
            number = None
        if number is None:
            raise MlopsError(f"{where}: expected an integer, got {text!r}")
        text = str(int(number))
    elif kind == "number":
        try:
            number = float(text)
        except ValueError as exc:
            raise MlopsError(f"{where}: expected a number, got {text!r}") from exc
        if not math.isfinite(number):
            raise MlopsError(f"{where}: expected a finite number, got {text!r}")
    elif kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise MlopsError(f"{where}: expected true or false, got {text!r}")
        text = "True" if text.lower() == "true" else "False"
    enum = getattr(port, "enum", None)
    if enum and text not in [str(option) for option in enum]:
        raise MlopsError(f"{where}: {text!r} is not one of {', '.join(map(str, enum))}")
    if number is not None:
        low, high = getattr(port, "min", None), getattr(port, "max", None)
        if low is not None and number < float(low):
            raise MlopsError(f"{where}: {text} is below the minimum {low}")
        if high is not None and number > float(high):
            raise MlopsError(f"{where}: {text} is above the maximum {high}")
    return text
