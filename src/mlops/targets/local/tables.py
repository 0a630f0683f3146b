"""Read the tables the local target needs (reference data, production batches, collected inference data).

Tables are read by the components' own reader (`tabular_common.io`: csv/parquet files, MLTable folders, folders
of files), so the engine and the components agree on what a table is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlops.errors import MlopsError
from mlops.jsonl import read_json_lines
from mlops.project.layout import Layout
from mlops.project.shared_code import import_shared


def read_table(layout: Layout, path: Path) -> pd.DataFrame:
    """A .csv/.parquet file, an MLTable folder or a folder of such files, as one data frame."""
    io = import_shared(layout.shared_components, "tabular_common.io")
    try:
        return io.read_table(path)
    except io.DataError as exc:
        raise MlopsError(str(exc)) from exc


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
