"""Read the tables the local engine needs (reference data, production batches, collected inference data).

Component code has its own reader (components/shared/tabular_common): components never import this package.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import pandas as pd

from mlops import azureml
from mlops.errors import MlopsError


def read_table(path: Path) -> pd.DataFrame:
    """A .csv/.parquet file, or an MLTable folder (its `paths` with read_delimited or read_parquet)."""
    if not path.exists():
        raise MlopsError(f"{path}: file not found")
    if path.is_file():
        return _read_file(path, "read_parquet" if path.suffix.lower() in (".parquet", ".pq") else "read_delimited")
    mltable = path / "MLTable"
    if not mltable.is_file():
        raise MlopsError(f"{path}: expected a .csv or .parquet file, or a folder with an MLTable file")
    document = azureml.read_yaml(mltable)
    transformations = document.get("transformations") or ["read_delimited"]
    kinds = [t if isinstance(t, str) else next(iter(t)) for t in transformations]
    reader = next((k for k in kinds if k in ("read_delimited", "read_parquet")), None)
    if reader is None:
        raise MlopsError(f"{mltable}: transformations: expected read_delimited or read_parquet, got {kinds}")
    files: list[Path] = []
    for entry in document.get("paths") or []:
        ((kind, value),) = entry.items()
        target = path / str(value)
        if kind == "file":
            files.append(target)
        elif kind == "folder":
            files += sorted(p for p in target.iterdir() if p.is_file())
        elif kind == "pattern":
            files += sorted(Path(p) for p in glob.glob(str(target), recursive=True))
    if not files:
        raise MlopsError(f"{mltable}: paths: no files")
    return pd.concat([_read_file(f, reader) for f in files], ignore_index=True)


def _read_file(path: Path, reader: str) -> pd.DataFrame:
    if not path.is_file():
        raise MlopsError(f"{path}: file not found")
    try:
        return pd.read_parquet(path) if reader == "read_parquet" else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise MlopsError(
            f"{path}: cannot be read as {'parquet' if reader == 'read_parquet' else 'CSV'}: {exc}"
        ) from exc


def read_collected(folder: Path, collection: str) -> pd.DataFrame:
    """Rows of one data-collector collection (`model_inputs`, `model_outputs`): JSON lines whose `data` holds the
    request's rows, as Azure's Collector writes them and as the local endpoint does."""
    base = folder / collection
    files = sorted(base.rglob("*.jsonl")) if base.is_dir() else []
    if not files:
        raise MlopsError(f"{base}: no collected data (*.jsonl); serve the model and send requests first")
    rows = []
    for file in files:
        for where, record in read_json_lines(file):
            data = record.get("data") if isinstance(record, dict) else None
            if not isinstance(data, list):
                raise MlopsError(f"{where}: expected a 'data' list of rows")
            rows += data
    return pd.DataFrame(rows)


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
