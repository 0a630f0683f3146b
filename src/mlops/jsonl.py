"""JSON lines, read with errors that name the file and line (collected inference data, monitor history)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError


def read_json_lines(file: Path) -> list[tuple[str, Any]]:
    """(`file:line`, parsed value) for every non-blank line; a bad line is an error naming file and line."""
    records = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((f"{file}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise MlopsError(f"{file}:{number}: not a JSON line ({exc.msg})") from exc
    return records
