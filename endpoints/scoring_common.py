"""What the online and the batch deployment share: finding the mounted model, scoring it, the probability rule.

Both deployments upload the whole `endpoints/` folder (`code_configuration.code: ../`, `scoring_script:
online/score.py` or `batch/score.py`), so this file sits at the root of their code on Azure and locally; each
score.py puts that root on sys.path to import it. Like the scripts, it may use only the inference environment
(mlflow, scikit-learn, pandas, numpy), never the project package.

The probability rule (also in endpoints/README.md), the same for a response, the collected outputs and a batch
output row:

- binary model: `probability` = P(positive class): the `positive_label` of the MLmodel metadata (train_model
  records the pipeline's `positive_label` input, or the class that sorts last when none was given), the class the
  training metrics and the monitor treat as positive; a model saved without it: the class that sorts last
  (`classes_[1]`, e.g. 1 for 0/1 labels);
- multiclass model: `probability` = P(predicted class), plus `probability_<class>` = P(class) for every class, in
  the order of the model's classes (online: `probabilities` rows in the order of `classes`);
- a model without `predict_proba` (regression): no probability.

The prediction is the class of highest probability (what a scikit-learn classifier's `predict` returns), computed
from the one `predict_proba` pass. Probabilities are rounded to 6 decimals.

The value rules (also in endpoints/README.md), the same for a request and a batch file: a column gets the type its
model signature declares. Numbers are finite and within +-MAX_ABS_NUMBER (scikit-learn's tree models compute in
float32 after scaling, so larger magnitudes would fail inside the model); text is valid Unicode; the id column
(ID_COLUMN) holds integers (64-bit) or non-empty text, one per row. Missing values (null, an empty CSV cell) stay
missing for the model's imputers, except ids. Anything else is an InvalidValue naming its column and row.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import reprlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import NoneType
from typing import Any

import numpy as np
import pandas as pd

DECIMALS = 6
PROBABILITY = "probability"

# MLflow signature types the value rules know (any other type takes scalars only).
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
STRING_TYPES = frozenset({"string"})
BOOLEAN_TYPES = frozenset({"boolean"})
# Largest magnitude of a feature value: far above any real measurement, far below float32's 3.4e38.
MAX_ABS_NUMBER = 1e15
# Ids are integers a 64-bit column holds (pandas, parquet and the monitor's tables) or text.
ID_INTEGER_RANGE = (-(2**63), 2**63 - 1)


def find_model_dir(root: Path) -> Path:
    """The folder holding MLmodel under AZUREML_MODEL_DIR (Azure mounts the registered files one level down)."""
    candidates = sorted(root.rglob("MLmodel"), key=lambda p: len(p.parts))
    if not candidates:
        raise RuntimeError(f"no MLflow model (MLmodel file) under AZUREML_MODEL_DIR={root}")
    return candidates[0].parent


def model_identity(model_dir: Path) -> tuple[str, str]:
    """Azure mounts a registered model at .../azureml-models/<name>/<version>/...; the local target does the same."""
    parts = model_dir.resolve().parts
    if "azureml-models" in parts:
        index = parts.index("azureml-models")
        if len(parts) > index + 2:
            return parts[index + 1], parts[index + 2]
    return os.environ.get("MODEL_NAME", "unknown"), os.environ.get("MODEL_VERSION", "unknown")


def positive_label(metadata: dict[str, Any] | None) -> Any:
    """The positive class the MLmodel metadata records (None: not recorded, the class that sorts last)."""
    return (metadata or {}).get("positive_label")


@dataclass(frozen=True)
class Scores:
    """A model's answer for some rows: predictions, and for a classifier its classes and class probabilities."""

    predictions: np.ndarray
    classes: list[Any] | None = None
    proba: np.ndarray | None = None  # rows x classes, rounded to DECIMALS
    positive: int | None = None  # binary: the column of the positive class in `classes` (None: the last)

    @property
    def positive_class(self) -> Any:
        """A binary model's positive class (None for multiclass and regression)."""
        if self.classes is None or len(self.classes) != 2:
            return None
        return self.classes[-1 if self.positive is None else self.positive]

    def columns(self) -> dict[str, np.ndarray]:
        """`prediction` and the probability columns of the rule, one value per row."""
        columns: dict[str, np.ndarray] = {"prediction": self.predictions}
        if self.proba is None or self.classes is None:
            return columns
        if len(self.classes) == 2:
            columns[PROBABILITY] = self.proba[:, -1 if self.positive is None else self.positive]
            return columns
        columns[PROBABILITY] = self.proba.max(axis=1)
        for index, label in enumerate(self.classes):
            columns[f"{PROBABILITY}_{label}"] = self.proba[:, index]
        return columns


def score(model: Any, features: Any, positive: Any = None) -> Scores:
    """Score a fitted scikit-learn model (an MLflow model loaded with mlflow.sklearn); `positive`: the binary
    model's positive class (`positive_label(metadata)`), None for the class that sorts last."""
    if not hasattr(model, "predict_proba"):
        return Scores(np.asarray(model.predict(features)))
    proba = np.asarray(model.predict_proba(features), dtype="float64")
    classes = np.asarray(model.classes_)
    labels = [plain(c) for c in classes]
    return Scores(classes[proba.argmax(axis=1)], labels, proba.round(DECIMALS), positive_column(labels, positive))


def positive_column(classes: list[Any], positive: Any) -> int | None:
    """The column of the positive class of a binary model (None for multiclass), matched by text ("1" is 1)."""
    if len(classes) != 2:
        return None
    if positive is None:
        return len(classes) - 1
    texts = [label_text(c) for c in classes]
    if label_text(positive) not in texts:
        raise RuntimeError(f"the model's positive_label {positive!r} is not one of its classes {texts}")
    return texts.index(label_text(positive))


def label_text(value: Any) -> str:
    """A class label as text (what a column name `probability_<class>` and the positive label are matched on)."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (for JSON)."""
    return value.item() if hasattr(value, "item") else value


def signature_columns(mlmodel: Any) -> dict[str, tuple[str, bool]]:
    """name -> (MLflow type name, required) for every input column of an MLflow model's signature."""
    if mlmodel.signature is None:
        raise RuntimeError("the MLflow model has no signature to check inputs against")
    return {
        spec.name: (getattr(spec.type, "name", str(spec.type)), bool(spec.required))
        for spec in mlmodel.signature.inputs
    }


class InvalidValue(ValueError):
    """A value its column cannot hold; `row` is its 0-based position among the rows checked, `problem` reads
    after the column name ("expects numbers, got 'thirty'")."""

    def __init__(self, column: str, row: int, problem: str):
        super().__init__(f"row {row}: column '{column}' {problem}")
        self.column, self.row, self.problem = column, row, problem


class Rejected:
    """A JSON token the request parser refused (NaN, Infinity, an overflowing number, an integer with too many
    digits), kept in place of its value so that the error can name the column and row it was sent for."""

    __slots__ = ("description",)

    def __init__(self, description: str):
        self.description = description

    def __repr__(self) -> str:
        return self.description


_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxlevel = 40, 40, 4, 4, 2
FINITE = f"finite numbers within +-{MAX_ABS_NUMBER:g}"


def short(value: Any) -> str:
    """A value for an error message: bounded in length and depth, whatever it is."""
    if isinstance(value, Rejected):
        return value.description
    return _SHORT.repr(value.item() if isinstance(value, np.generic) else value)


def is_missing(value: Any) -> bool:
    """None, pandas' NA/NaT or a float NaN: a missing value (the model's imputers fill it)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def feature_values(column: str, type_name: str, values: pd.Series | np.ndarray) -> np.ndarray:
    """One feature column as its signature type: float64 (NaN = missing) for numbers, objects (None = missing)
    otherwise; raises InvalidValue for the first value that does not fit. A column whose values all have plain
    types is checked at once; any other is looked at value by value (which finds the first bad row)."""
    if type_name in NUMERIC_TYPES:
        return numbers(column, values)
    if type_name in STRING_TYPES and whole_text(values):
        return values.to_numpy(dtype=object, na_value=None)
    array = as_objects(values)
    if type_name in STRING_TYPES:
        checked = plain_texts(array)
        if checked is not None:
            return checked
    out = np.empty(len(array), dtype=object)
    for row, value in enumerate(array):
        if is_missing(value):
            out[row] = None
        elif type_name in STRING_TYPES:
            out[row] = text(column, row, value)
        elif type_name in BOOLEAN_TYPES:
            if not isinstance(value, bool | np.bool_):
                raise InvalidValue(column, row, f"expects true or false, got {short(value)}")
            out[row] = bool(value)
        else:
            out[row] = scalar(column, row, value)
    return out


def as_objects(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=object)
    return np.asarray(values, dtype=object)


def whole_text(values: pd.Series | np.ndarray) -> bool:
    """A column read with pandas' string dtype (text or missing in every row) whose text is valid Unicode: Arrow
    strings always are (UTF-8), Python ones when ASCII. Taken whole; any other column is checked value by value."""
    if not isinstance(values, pd.Series) or not isinstance(values.dtype, pd.StringDtype):
        return False
    return values.dtype.storage == "pyarrow" or bool((values.isna() | values.str.isascii()).all())


def plain_texts(array: np.ndarray) -> np.ndarray | None:
    """A text column of Python strings (valid Unicode) and None only, as it is; None when some value needs a
    closer look."""
    if not set(map(type, array)) <= {str, NoneType} or not valid_unicode(filter(None, array)):
        return None
    return array.copy()


def valid_unicode(strings: Any) -> bool:
    """Whether every one of `strings` encodes as UTF-8 (no lone surrogates), checked on their concatenation."""
    joined = "".join(strings)
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def numbers(column: str, values: pd.Series | np.ndarray) -> np.ndarray:
    """Finite numbers within +-MAX_ABS_NUMBER as float64, NaN for missing values."""
    if values.dtype.kind in "iuf":  # a numeric column (CSV, parquet): checked at once
        if isinstance(values, pd.Series):
            array = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            array = values.astype("float64")
        return bounded(column, array, values)
    array = as_objects(values)
    if set(map(type, array)) <= {int, float, NoneType}:  # JSON numbers and nulls (a bool is not an int here)
        with contextlib.suppress(OverflowError):  # an integer beyond float64: the loop names it
            return bounded(column, array.astype("float64"), array)  # None -> NaN, as float NaN stays
    out = np.empty(len(array), dtype="float64")
    for row, value in enumerate(array):
        if is_missing(value):
            out[row] = np.nan
            continue
        problem = number_problem(value)
        if problem:
            raise InvalidValue(column, row, problem)
        out[row] = float(value)
    return out


def bounded(column: str, array: np.ndarray, values: pd.Series | np.ndarray) -> np.ndarray:
    """`array` (float64, NaN = missing) when every number is within +-MAX_ABS_NUMBER; else an InvalidValue for the
    first row that is not, naming the value as sent (`values`)."""
    bad = np.flatnonzero(np.abs(array) > MAX_ABS_NUMBER)  # inf too; NaN compares False
    if bad.size:
        row = int(bad[0])
        raise InvalidValue(
            column, row, number_problem(values.iloc[row] if isinstance(values, pd.Series) else values[row])
        )
    return array


def number_problem(value: Any) -> str | None:
    """What is wrong with `value` as a number, to read after the column name (None: nothing)."""
    if isinstance(value, Rejected):
        return f"expects {FINITE}, got {value}"
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        return f"expects numbers, got {short(value)}"
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return f"expects {FINITE}, got {value}"
    if abs(value) > MAX_ABS_NUMBER:
        return f"expects {FINITE}, got {short(value)}"
    return None


def text(column: str, row: int, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue(column, row, f"expects strings, got {short(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(
                column, row, f"expects valid Unicode text, got {short(value)} (a lone surrogate)"
            ) from None
    return value


def scalar(column: str, row: int, value: Any) -> Any:
    """A column of a type the rules do not know: any text, number or boolean."""
    if isinstance(value, str):
        return text(column, row, value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    problem = number_problem(value)
    if problem:
        raise InvalidValue(column, row, problem)
    return plain(value)


def id_values(column: str, values: pd.Series | np.ndarray) -> list[int | str]:
    """The id column: one integer (64-bit) or non-empty string per row; raises InvalidValue otherwise. A column
    whose type settles it (64-bit integers without gaps, or whole text with no missing or empty value) is taken
    whole."""
    if isinstance(values, pd.Series) and (
        (isinstance(values.dtype, np.dtype) and values.dtype.kind == "i")
        or (whole_text(values) and values.notna().all() and (values.str.len() > 0).all())
    ):
        return values.tolist()
    array = as_objects(values)
    checked = plain_ids(array)
    if checked is not None:
        return checked
    missing = [row for row, value in enumerate(array) if is_missing(value) or (isinstance(value, str) and not value)]
    if missing:
        raise InvalidValue(column, missing[0], f"expects an id in every row, got {short(array[missing[0]])}")
    ids: list[int | str] = []
    low, high = ID_INTEGER_RANGE
    for row, value in enumerate(array):
        if isinstance(value, str):
            ids.append(text(column, row, value))
        elif isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_) and low <= value <= high:
            ids.append(int(value))
        else:
            raise InvalidValue(column, row, f"expects integer (64-bit) or string ids, got {short(value)}")
    return ids


def plain_ids(array: np.ndarray) -> list[int | str] | None:
    """The ids when they are all non-empty valid strings or all Python integers in the 64-bit range, checked at
    once; None when some value needs a closer look."""
    kinds = set(map(type, array))
    if kinds == {str}:
        return array.tolist() if all(array) and valid_unicode(array) else None
    if kinds == {int}:
        low, high = ID_INTEGER_RANGE
        return array.tolist() if low <= min(array) and max(array) <= high else None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Operational records: one JSON line per request the scoring script answered (any status), for the local
# endpoint's request count, error rates and latencies (on Azure, App Insights and AmlOnlineEndpointTrafficLog hold
# this). A record never holds feature values: time, deployment, status, latency_ms, rows, correlationid.

OPERATIONAL = "operational"  # the collection folder, next to model_inputs/ and model_outputs/
MAX_CORRELATION_ID = 128  # characters of a client's correlation id kept in a record


class OperationalLog:
    """Appends one operational record per request under `<root>/operational/YYYY/MM/DD/HH/data.jsonl`.

    Written when the request ends: one append of a short line (about 25 µs, against milliseconds of scoring), whole
    on a file opened for appending, so workers never interleave. A failed write is counted in `dropped`, reported to
    `on_error` and never raised into the request."""

    def __init__(self, root: Path, deployment: str, on_error: Any = None):
        self.folder = root / OPERATIONAL
        self.deployment = deployment
        self.on_error = on_error
        self.dropped = 0

    def record(self, status: int, latency_ms: float, rows: int | None, correlation_id: str) -> None:
        now = datetime.now(UTC)
        record = {
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "deployment": self.deployment,
            "status": int(status),
            "latency_ms": round(float(latency_ms), 3),
            "rows": rows,
            "correlationid": str(correlation_id)[:MAX_CORRELATION_ID],
        }
        try:
            append_record(self.folder, now, record)
        except Exception as exc:  # a record is never worth a failed request
            self.dropped += 1
            if self.on_error is not None:
                with contextlib.suppress(Exception):
                    self.on_error(exc)


def append_record(folder: Path, when: datetime, record: dict[str, Any]) -> None:
    """`record` as one JSON line of `folder/YYYY/MM/DD/HH/data.jsonl` (the layout of Azure's data collector)."""
    hour = folder / when.strftime("%Y/%m/%d/%H")
    hour.mkdir(parents=True, exist_ok=True)
    append_whole(hour / "data.jsonl", (json.dumps(record, allow_nan=False) + "\n").encode("utf-8"))


def append_whole(path: Path, data: bytes) -> None:
    """Append `data` with one `os.write` on a file opened for appending; a short write raises OSError."""
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(handle, data)
    finally:
        os.close(handle)
    if written != len(data):
        raise OSError(f"{path}: wrote {written} of {len(data)} bytes")
