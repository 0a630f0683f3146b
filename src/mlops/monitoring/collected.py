"""Read what a deployment's data collector wrote (`model_inputs/`, `model_outputs/`: JSON lines whose `data` holds
the request's rows), skipping malformed lines instead of failing the window on one of them.

A line is malformed when it is not UTF-8 text, not valid JSON (a line cut off while being written, garbage), not a
JSON object with a `data` list of row objects, or when a row holds a JSON object or list as a value (e.g. an id sent
as `{"a": 1}`): a table cell is a number, text, a boolean or null. A value of the wrong scalar type (text in a numeric
feature) is not malformed: data_quality's data-type error rate is there to count it.

`check_malformed` is the limit (monitoring/README.md, "Small, partial and malformed windows"): a collection with more
than `max_share` of its lines malformed is refused, naming the first one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.results import MalformedLine
from mlops.monitoring.settings import MAX_MALFORMED_SHARE


@dataclass(frozen=True)
class Collection:
    """The rows of one collection of a window, and what the reader skipped."""

    folder: Path
    frame: pd.DataFrame
    lines: int
    malformed: tuple[MalformedLine, ...]


def read_collection(folder: Path, collection: str) -> Collection:
    """Every `*.jsonl` file under `folder/collection`, in path order; malformed lines are skipped and listed.

    Raises MonitorInputError when there is no file, or no valid row at all."""
    base = folder / collection
    files = sorted(base.rglob("*.jsonl")) if base.is_dir() else []
    if not files:
        raise MonitorInputError(f"{base}: no collected data (*.jsonl); serve the model and send requests first")
    rows: list[dict[str, Any]] = []
    malformed: list[MalformedLine] = []
    lines = 0
    for where, raw, torn in jsonl_lines(files):
        lines += 1
        found, problem = parse_line(raw, torn=torn)
        if problem is None:
            rows += found
        else:
            malformed.append(MalformedLine(where, problem))
    if not rows:
        first = f"; first malformed: {malformed[0]}" if malformed else ""
        raise MonitorInputError(
            f"{base}: no rows to monitor in {lines} line(s) of {len(files)} file(s) ({len(malformed)} malformed{first})"
        )
    return Collection(base, pd.DataFrame(rows), lines, tuple(malformed))


def jsonl_lines(files: Iterable[Path]) -> Iterator[tuple[str, bytes, bool]]:
    """(FILE:LINE, the line's bytes, torn) for each non-blank line of the files, in order. `torn`: it is a file's
    last line without a newline, which may have been cut off mid-write."""
    for file in files:
        raw_lines = file.read_bytes().split(b"\n")
        for number, raw in enumerate(raw_lines, start=1):
            if raw.strip():
                yield f"{file}:{number}", raw, number == len(raw_lines)


def decode_line(raw: bytes, *, torn: bool = False) -> tuple[Any, str | None]:
    """(the line's JSON value, None), or (None, why) when it is not UTF-8 JSON. `torn`: it is the file's
    unterminated last line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start + 1})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        cut = "; the file's last line has no newline: cut off while being written?" if torn else ""
        return None, f"not valid JSON ({exc.msg} at column {exc.colno}){cut}"


def parse_line(raw: bytes, *, torn: bool = False) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None) for a good line, ([], why) for a malformed one. `torn`: it is the file's unterminated last line."""
    record, problem = decode_line(raw, torn=torn)
    if problem is not None:
        return [], problem
    if not isinstance(record, dict):
        return [], f"a JSON {_json_kind(record)}, not an object with a 'data' list of rows"
    data = record.get("data")
    if not isinstance(data, list):
        what = "no 'data'" if data is None else f"'data' is a JSON {_json_kind(data)}"
        return [], f"{what}; expected a 'data' list of rows"
    for index, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            return [], f"row {index} of 'data' is a JSON {_json_kind(row)}, not an object"
        for column, value in row.items():
            if isinstance(value, dict | list):
                return [], (
                    f"row {index}: '{column}' is a JSON {_json_kind(value)}; values must be numbers, text, booleans "
                    "or null"
                )
    return data, None


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def tolerated(lines: int, max_share: float) -> int:
    """How many malformed lines a collection of `lines` lines may have: `max_share` of them, and at least one unless
    the share is 0 (so a small window survives one line cut off while being written)."""
    if max_share <= 0:
        return 0
    return max(1, math.floor(max_share * lines))


def check_malformed(collection: Collection, max_share: float) -> None:
    """Refuse the collection when it has more malformed lines than `tolerated`, naming the first one."""
    refuse_malformed(str(collection.folder), collection.lines, collection.malformed, max_share)


def refuse_malformed(where: str, lines: int, malformed: Sequence[MalformedLine], max_share: float) -> None:
    """MonitorInputError when more of `lines` lines are malformed than `tolerated`, naming the first one."""
    count, allowed = len(malformed), tolerated(lines, max_share)
    if count > allowed:
        raise MonitorInputError(
            f"{where}: {count} of {lines} lines malformed, more than the {allowed} tolerated "
            f"({max_share * 100:g}% of the lines, properties.{MAX_MALFORMED_SHARE}); first: {malformed[0]}"
        )
