"""Scoring script of the batch deployment (deployment.yml), run by Azure ML's batch runtime or `mlops batch-score`.

`init()` loads the MLflow model once; `run(mini_batch)` gets a list of file paths (CSV or parquet), scores every
row and returns one row per input row: the id column, the prediction, the probability columns of the rule in
../scoring_common.py (the same numbers the online deployment answers and collects), the model name and version, a
timestamp and the source file, so monitoring can join predictions to ground truth later.

Every value is checked by the rules the online deployment applies (scoring_common's value rules: finite numbers
within range, text, integer or text ids). A file that cannot be read or scored raises BadFile, one line naming the
file and, for a bad value, the column and the data row (1 = the first row after the header); the runtime retries
the mini batch and counts it against error_threshold.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

# The deployment uploads endpoints/ (code_configuration.code: ../); the code both deployments share is at its root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring_common import (
    NUMERIC_TYPES,
    STRING_TYPES,
    InvalidValue,
    feature_values,
    find_model_dir,
    id_values,
    model_identity,
    positive_label,
    score,
    short,
    signature_columns,
)

model = None
columns: dict[str, tuple[str, bool]] = {}  # the signature's inputs: name -> (type name, required)
model_name, model_version = "unknown", "unknown"
id_column: str | None = None
positive: object = None  # a binary model's positive class (MLmodel metadata), None: the class that sorts last
# Rows read, checked and scored at a time: a large file streams through in bounded memory; what stays is the
# output (a few columns per row), which run() returns for the whole mini batch as Azure's runtime expects.
CHUNK_ROWS = 100_000


class BadFile(ValueError):
    """An input file that cannot be scored; the message names the file (and the column and row of a bad value)."""


def init() -> None:
    global model, columns, model_name, model_version, id_column, positive
    model_dir = find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"]))
    mlmodel = mlflow.models.Model.load(str(model_dir))
    positive = positive_label(mlmodel.metadata)
    if mlmodel.signature is None:
        raise RuntimeError(f"{model_dir}: the MLflow model has no signature; cannot tell which columns to score")
    columns = signature_columns(mlmodel)
    model = mlflow.sklearn.load_model(str(model_dir))
    model_name, model_version = model_identity(model_dir)
    id_column = os.environ.get("ID_COLUMN") or None


def chunks(path: Path) -> Iterator[pd.DataFrame]:
    """The rows of a CSV (text columns of the signature read as text, whatever they look like) or parquet file,
    CHUNK_ROWS at a time; at least one frame (with the columns, maybe no rows)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise BadFile(f"{path.name}: expected a .csv or .parquet file")
    if suffix == ".csv":
        yield from csv_chunks(path)
    else:
        yield from parquet_chunks(path)


@contextlib.contextmanager
def reading(path: Path, kind: str) -> Iterator[None]:
    """pandas' and pyarrow's parse, decode and I/O errors as one BadFile line naming the file."""
    try:
        yield
    except BadFile:
        raise
    except pd.errors.EmptyDataError:
        raise BadFile(f"{path.name}: the file is empty (expected a header row)") from None
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BadFile(f"{path.name}: not a readable {kind} file ({type(exc).__name__}: {reason})") from None


def csv_chunks(path: Path) -> Iterator[pd.DataFrame]:
    with reading(path, "CSV"):
        header = csv_header(path)
        text = {name: str for name, (type_name, _) in columns.items() if type_name in STRING_TYPES and name in header}
        reader = pd.read_csv(path, index_col=False, dtype=text, chunksize=CHUNK_ROWS)
    with reader:
        while True:
            with reading(path, "CSV"), warnings.catch_warnings():
                # a row wider than the header would silently become the index, or lose values
                warnings.simplefilter("error", pd.errors.ParserWarning)
                chunk = next(reader, None)
            if chunk is None:
                return
            yield chunk


def parquet_chunks(path: Path) -> Iterator[pd.DataFrame]:
    """Only the columns the script uses are read (the frames pandas' read_parquet would give, column by column)."""
    import pyarrow.parquet as pq

    with reading(path, "parquet"):
        source = pq.ParquetFile(path)
        names = source.schema_arrow.names
        used = [name for name in (*columns, *([id_column] if id_column else [])) if name in names]
        repeated = sorted({name for name in used if names.count(name) > 1})
        if repeated:
            raise BadFile(f"{path.name}: column(s) {repeated} appear more than once")
        batches = source.iter_batches(batch_size=CHUNK_ROWS, columns=list(dict.fromkeys(used)))
    empty = True
    while True:
        with reading(path, "parquet"):
            batch = next(batches, None)
            chunk = batch.to_pandas() if batch is not None else None
            if chunk is None and empty:  # no rows: the columns still tell what is missing
                chunk = source.schema_arrow.empty_table().select(list(dict.fromkeys(used))).to_pandas()
        if chunk is None:
            return
        empty = False
        yield chunk


def csv_header(path: Path) -> list[str]:
    """The header row; refused when a column the script uses repeats (pandas would rename the copy, 'bmi.1', and
    score the first one silently)."""
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    used = {*columns, *([id_column] if id_column else [])}
    repeated = sorted({name for name in header if name in used and header.count(name) > 1})
    if repeated:
        raise BadFile(f"{path.name}: column(s) {repeated} appear more than once in the header")
    return header


def csv_numbers(column: str, values: pd.Series) -> pd.Series:
    """A numeric column of a CSV file that pandas read as text (some cell is not a number): parsed, or the first
    cell that is not a number is an InvalidValue."""
    if values.dtype.kind in "iufb":
        return values
    parsed = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(values.notna().to_numpy() & parsed.isna().to_numpy())
    if bad.size:
        raise InvalidValue(column, int(bad[0]), f"expects numbers, got {short(values.iloc[int(bad[0])])}")
    return parsed


def score_file(path: Path) -> pd.DataFrame:
    """Every row of the file scored, CHUNK_ROWS at a time (only the output columns are kept)."""
    scored_at = datetime.now(UTC).isoformat(timespec="seconds")
    results: list[pd.DataFrame] = []
    rows = 0
    for chunk in chunks(path):
        if not results:
            check_columns(path, chunk)
        if not chunk.empty:
            results.append(score_chunk(path, chunk.reset_index(drop=True), rows, scored_at))
        rows += len(chunk)
    if not results:
        raise BadFile(f"{path.name}: a header but no data rows")
    return results[0] if len(results) == 1 else pd.concat(results, ignore_index=True)


def check_columns(path: Path, frame: pd.DataFrame) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BadFile(f"{path.name}: missing column(s) {missing}")
    if id_column and id_column not in frame.columns:
        raise BadFile(f"{path.name}: missing the id column '{id_column}' (ID_COLUMN)")
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()] if c in columns or c == id_column})
    if repeated:
        raise BadFile(f"{path.name}: column(s) {repeated} appear more than once")


def score_chunk(path: Path, frame: pd.DataFrame, first_row: int, scored_at: str) -> pd.DataFrame:
    """`frame`'s rows checked and scored; `first_row`: how many data rows of the file came before them."""
    try:
        features = pd.DataFrame(
            {name: feature_values(name, columns[name][0], cells(path, frame, name)) for name in columns}
        )
        if id_column:
            id_values(id_column, frame[id_column])
    except InvalidValue as problem:
        row = first_row + problem.row + 1
        raise BadFile(f"{path.name}, data row {row}: column '{problem.column}' {problem.problem}") from None
    result = pd.DataFrame(index=frame.index)
    if id_column:
        result[id_column] = frame[id_column]
    for name, values in score(model, features, positive).columns().items():
        result[name] = values
    result["model_name"] = model_name
    result["model_version"] = model_version
    result["scored_at"] = scored_at
    result["source_file"] = path.name
    return result


def cells(path: Path, frame: pd.DataFrame, name: str) -> pd.Series:
    """A feature column as read; a CSV's numbers parsed from text when pandas could not (CSV has no types)."""
    numeric = columns[name][0] in NUMERIC_TYPES and path.suffix.lower() == ".csv"
    return csv_numbers(name, frame[name]) if numeric else frame[name]


def run(mini_batch: list[str]) -> pd.DataFrame:
    scored = [score_file(Path(p)) for p in mini_batch]
    return scored[0] if len(scored) == 1 else pd.concat(scored, ignore_index=True)
