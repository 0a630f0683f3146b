"""Read and write tables the way Azure ML hands them to a command job.

A tabular input arrives as a local path that is one of:

- a `.csv` or `.parquet` file (a `uri_file` input);
- a folder holding an `MLTable` file (an `mltable` input): its `paths` (file / folder / pattern, relative to the
  folder) and its read transformation (`read_delimited` or `read_parquet`) are honoured. With a read
  transformation every file a `folder` path holds is read with it, whatever its extension (hidden files and
  MLTable files aside); without one, files are read by extension (.csv / .parquet);
- a folder of `.csv` / `.parquet` files (a `uri_folder` input), read in name order and concatenated.

Outputs are written as MLTable folders: `data.parquet` plus an `MLTable` file that points at it, so the next step
(and Azure ML's data explorer) can read them as `mltable` inputs.
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tabular_common.errors import DataError

MLTABLE_FILE = "MLTable"
DATA_FILE = "data.parquet"
CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
TABLE_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES
READ_TRANSFORMATIONS = ("read_delimited", "read_parquet")
MLTABLE_DOCUMENT = {
    "$schema": "https://azuremlschemas.azureedge.net/latest/MLTable.schema.json",
    "type": "mltable",
    "paths": [{"file": f"./{DATA_FILE}"}],
    "transformations": ["read_parquet"],
}


def table_files(path: str | Path) -> list[Path]:
    """The data files a tabular input consists of, in read order."""
    return [file for file, _ in _plan(Path(path))]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a csv/parquet file, an MLTable folder or a folder of csv/parquet files into one data frame."""
    plan = _plan(Path(path))
    frames = [_read_file(file, options) for file, options in plan]
    first_columns = list(frames[0].columns)
    for (file, _), frame in zip(plan[1:], frames[1:], strict=True):
        if list(frame.columns) != first_columns:
            raise DataError(
                f"{file}: columns {list(frame.columns)} differ from {plan[0][0].name}'s {first_columns}; "
                "all files of a table must have the same columns"
            )
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.shape[1] == 0:
        raise DataError(f"{path}: the table has no columns")
    if len(frame) == 0:
        raise DataError(f"{path}: the table has a header but no data rows")
    return frame


def write_mltable(frame: pd.DataFrame, folder: str | Path) -> Path:
    """Write `frame` as an MLTable folder (`data.parquet` + `MLTable`); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / DATA_FILE, index=False)
    (folder / MLTABLE_FILE).write_text(yaml.safe_dump(MLTABLE_DOCUMENT, sort_keys=False), encoding="utf-8")
    return folder


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- internals -----------------------------------------------------------------------------------------------


def _plan(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(file, read options) pairs; options carry the format and csv settings."""
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        if path.name == MLTABLE_FILE:
            return _plan_mltable(path.parent)
        return [(path, {"format": _format_of(path)})]
    if (path / MLTABLE_FILE).is_file():
        return _plan_mltable(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if not files:
        present = sorted(p.name for p in path.iterdir())[:10]
        raise DataError(
            f"{path}: folder has no MLTable file and no .csv or .parquet files (found: {present or 'nothing'})"
        )
    return [(file, {"format": _format_of(file)}) for file in files]


def _format_of(file: Path) -> str:
    suffix = file.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise DataError(f"{file}: unsupported file type '{suffix}'; expected .csv or .parquet")


def _plan_mltable(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    mltable = folder / MLTABLE_FILE
    try:
        document = yaml.safe_load(mltable.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{mltable}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), list) or not document["paths"]:
        raise DataError(f"{mltable}: expected a mapping with a non-empty 'paths' list")
    options = _read_options(mltable, document.get("transformations") or [])
    files: list[Path] = []
    for entry in document["paths"]:
        files.extend(_resolve_path_entry(mltable, folder, entry, any_extension="format" in options))
    if not files:
        raise DataError(f"{mltable}: 'paths' matched no files")
    # The read transformation decides the format; without one, each file's extension does.
    return [(file, options if "format" in options else {"format": _format_of(file)}) for file in files]


def _read_options(mltable: Path, transformations: list[Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for step in transformations:
        name, params = (step, {}) if isinstance(step, str) else _single_key(mltable, step)
        if name == "read_parquet":
            options["format"] = "parquet"
        elif name == "read_delimited":
            options["format"] = "csv"
            params = params or {}
            options["delimiter"] = params.get("delimiter", ",")
            options["encoding"] = _encoding(params.get("encoding", "utf8"))
            header = params.get("header", "all_files_same_headers")
            if header == "no_header":
                options["header"] = None
        else:
            raise DataError(
                f"{mltable}: transformation '{name}' is not supported by this component; "
                f"supported: {', '.join(READ_TRANSFORMATIONS)}"
            )
    return options


def _single_key(mltable: Path, step: Any) -> tuple[str, Any]:
    if isinstance(step, dict) and len(step) == 1:
        ((name, params),) = step.items()
        return str(name), params
    raise DataError(f"{mltable}: each transformation must be a name or a one-key mapping, got {step!r}")


def _encoding(name: str) -> str:
    return {"utf8": "utf-8", "ascii": "ascii", "latin1": "latin-1", "utf16": "utf-16"}.get(name, name)


def _resolve_path_entry(mltable: Path, folder: Path, entry: Any, any_extension: bool) -> list[Path]:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise DataError(f"{mltable}: each entry of 'paths' must be one of file/folder/pattern, got {entry!r}")
    ((kind, value),) = entry.items()
    value = str(value)
    if "://" in value:
        raise DataError(
            f"{mltable}: path '{value}' is a remote URI; this component reads MLTable paths relative to the "
            "MLTable folder (mount the data as an mltable input instead)"
        )
    target = (folder / value) if not Path(value).is_absolute() else Path(value)
    if kind == "file":
        if not target.is_file():
            raise DataError(f"{mltable}: file '{value}' not found next to the MLTable file")
        return [target]
    if kind == "folder":
        if not target.is_dir():
            raise DataError(f"{mltable}: folder '{value}' not found next to the MLTable file")
        files = sorted(p for p in target.rglob("*") if p.is_file() and not p.name.startswith("."))
        if any_extension:
            return [p for p in files if p.name != MLTABLE_FILE]
        return [p for p in files if p.suffix.lower() in TABLE_SUFFIXES]
    if kind == "pattern":
        return sorted(Path(p) for p in glob.glob(str(target), recursive=True) if Path(p).is_file())
    raise DataError(f"{mltable}: unknown path kind '{kind}'; expected file, folder or pattern")


def _read_file(file: Path, options: dict[str, Any]) -> pd.DataFrame:
    if file.stat().st_size == 0:
        raise DataError(f"{file}: the file is empty")
    try:
        if options["format"] == "parquet":
            return pd.read_parquet(file)
        frame = pd.read_csv(
            file,
            sep=options.get("delimiter", ","),
            encoding=options.get("encoding", "utf-8"),
            header=options.get("header", "infer"),
        )
        if options.get("header", "infer") is None:  # MLTable names header-less columns Column1, Column2, ...
            frame.columns = [f"Column{i + 1}" for i in range(frame.shape[1])]
        return frame
    except pd.errors.EmptyDataError:
        raise DataError(f"{file}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "parquet" if options["format"] == "parquet" else "csv"
        raise DataError(f"{file}: cannot be read as {kind} ({' '.join(str(exc).split())[:200]})") from None
