"""Scoring script of the online deployments (blue.yml, green.yml), run by the Azure ML inference server.

The same file serves on Azure and locally (`mlops serve` runs `azmlinfsrv` with it). It accepts the request
formats Azure ML's no-code MLflow deployments accept, so clients can move between the two:

    {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}     (pandas split orientation)
    {"input_data": [{"column": value, ...}, ...]}                                (records)

and answers with predictions, class probabilities (all classes, and `probability` by the rule in
../scoring_common.py), the model name and version, and a correlation id.

Requests are parsed strictly (endpoints/README.md lists the limits): a bounded body and nesting depth, finite
numbers only, integers of at most MAX_INTEGER_DIGITS digits, values of each column's signature type, ids that are
integers or text. Any client input gets an explicit 4xx naming the field, column and row; only a failure of the
model itself is a 500 (the server's answer to an exception). Inputs and outputs of answered (2xx) requests only
are collected for model monitoring, once the response is sent (when the server closes it): with
azureml-ai-monitoring's Collector on Azure, and as JSONL files under MLOPS_COLLECT_DIR locally (same records,
joinable by correlation id). Locally every request run() answers, whatever its status, also leaves an operational
record (status, latency, rows; no feature values) in the `operational` collection (scoring_common.OperationalLog);
on Azure App Insights and the endpoint's traffic log hold the same facts.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from operator import methodcaller
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

# The deployment uploads endpoints/ (code_configuration.code: ../); the code both deployments share is at its root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring_common import (
    InvalidValue,
    OperationalLog,
    Rejected,
    Scores,
    append_record,
    feature_values,
    find_model_dir,
    id_values,
    model_identity,
    positive_label,
    score,
    short,
    signature_columns,
)

logger = logging.getLogger("score")

# Limits of one request; the two environment variables may override the defaults (deployment YAML).
DEFAULT_MAX_ROWS = 1000  # MAX_ROWS_PER_REQUEST
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # MAX_REQUEST_BYTES: the body, as sent
MAX_JSON_DEPTH = 8  # arrays/objects inside each other; a split-orientation request needs 4
MAX_INTEGER_DIGITS = 19  # the digits of a 64-bit integer; longer ones are refused before Python converts them
READ_CHUNK = 64 * 1024

# A JSON string (or an unterminated one, to the end): possessive, so linear on any input.
JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
# Each byte as its step in nesting depth (as an int8): [ and { one level in, ] and } one out, anything else 0.
NESTING_STEPS = bytes(1 if byte in b"[{" else 255 if byte in b"]}" else 0 for byte in range(256))
# A body's text outside strings with every digit read as 0, e/E as e and a sign as s (NUMBER_SHAPES) holds one
# of STRICT_SHAPES wherever it has a token the strict hooks may refuse (see needs_strict_numbers).
NUMBER_SHAPES = bytes.maketrans(b"0123456789Ee+-", b"0000000000eess")
STRICT_SHAPES = (b"N", b"I", b"0" * (MAX_INTEGER_DIGITS + 1), b"e000", b"es000")


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ScoringService:
    """Everything `run()` needs, loaded once by `init()`."""

    def __init__(self, model_dir: Path, max_rows: int, id_column: str | None, max_bytes: int = DEFAULT_MAX_BYTES):
        mlmodel = mlflow.models.Model.load(str(model_dir))
        if mlmodel.signature is None:
            raise RuntimeError(f"{model_dir}: the MLflow model has no signature to validate requests against")
        self.columns = signature_columns(mlmodel)
        self.model = mlflow.sklearn.load_model(str(model_dir))
        self.positive = positive_label(mlmodel.metadata)
        self.name, self.version = model_identity(model_dir)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.id_column = id_column or None

    def parse(self, body: bytes) -> tuple[list[str], list[Sequence[Any]], int]:
        """The request's column names, their values (one sequence per column, in column order) and its number of
        rows; checks shape and limits."""
        if len(body) > self.max_bytes:
            raise BadRequest(413, too_large(len(body), self.max_bytes))
        skeleton = JSON_STRING.sub(b"", body)
        depth = nesting_depth(skeleton)
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(
                400,
                f"the JSON body nests arrays/objects {depth} deep; the limit is {MAX_JSON_DEPTH} (a request needs 4)",
            )
        try:
            payload = json.loads(body or b"", **(STRICT_NUMBERS if needs_strict_numbers(body, skeleton) else {}))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(400, f"malformed JSON: {exc}") from None
        if not isinstance(payload, dict) or "input_data" not in payload:
            raise BadRequest(400, "expected a JSON object with 'input_data' (split or records orientation)")
        data = payload["input_data"]
        if isinstance(data, dict) and "data" in data:
            columns, values, rows = split_columns(data)
        elif isinstance(data, list) and set(map(type, data)) <= {dict}:
            columns, values, rows = record_columns(data)
        else:
            raise BadRequest(400, "input_data must be {'columns': [...], 'data': [[...]]} or a list of records")
        if not rows:
            raise BadRequest(400, "input_data has no rows")
        if rows > self.max_rows:
            raise BadRequest(413, f"{rows} rows in one request; the limit is {self.max_rows} (MAX_ROWS_PER_REQUEST)")
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise BadRequest(400, f"duplicate columns: {duplicated}")
        return columns, values, rows

    def conform(
        self, columns: list[str], values: list[Sequence[Any]], rows: int
    ) -> tuple[dict[str, np.ndarray], list[Any] | None]:
        """Check the columns against the model signature and give each its declared type; the features (one array
        per signature column), and the ids when the request has the id column. Column by column (scoring_common's
        value rules check a column of plain JSON values at once)."""
        allowed = set(self.columns) | ({self.id_column} if self.id_column else set())
        unknown = [c for c in columns if c not in allowed]
        if unknown:
            raise BadRequest(400, f"unknown column(s) {short(unknown)}; the model takes {list(self.columns)}")
        missing = [name for name, (_, required) in self.columns.items() if required and name not in columns]
        if missing:
            raise BadRequest(400, f"missing column(s) {missing}")
        position = {name: index for index, name in enumerate(columns)}

        def column(name: str) -> np.ndarray:
            index = position.get(name)
            if index is None:  # an optional column left out: missing in every row
                return np.full(rows, None, dtype=object)
            return np.fromiter(values[index], dtype=object, count=rows)

        try:
            features = {
                name: feature_values(name, type_name, column(name)) for name, (type_name, _) in self.columns.items()
            }
            ids = id_values(self.id_column, column(self.id_column)) if self.id_column in position else None
        except InvalidValue as problem:
            raise BadRequest(
                400, f"input_data row {problem.row}: column '{problem.column}' {problem.problem}"
            ) from None
        return features, ids

    def predict(self, features: dict[str, np.ndarray]) -> Scores:
        return score(self.model, pd.DataFrame(features), self.positive)


def too_large(size: int, limit: int) -> str:
    return f"the request body has {size} bytes or more; the limit is {limit} (MAX_REQUEST_BYTES)"


def nesting_depth(skeleton: bytes) -> int:
    """How deep arrays and objects nest in a JSON text whose strings are removed (`JSON_STRING`), counted without
    parsing (json.loads recurses once per level and would hit Python's recursion limit on a deep enough body)."""
    steps = np.frombuffer(skeleton.translate(NESTING_STEPS), dtype=np.int8)
    return int(steps.cumsum(dtype=np.int32).max(initial=0))


def needs_strict_numbers(body: bytes, skeleton: bytes) -> bool:
    """Whether json.loads needs the STRICT_NUMBERS hooks (a Python call per number) to refuse a token: only when,
    outside strings, the body has a letter N or I (NaN, Infinity), a run of more than MAX_INTEGER_DIGITS digits
    or an exponent of 3 digits or more (only these can make a number overflow a float). A NUL byte (UTF-16/32
    text, which json.loads also reads) hides such tokens from the search, so it too takes the hooks. Any other
    number parses to the same value with or without them."""
    shape = skeleton.translate(NUMBER_SHAPES)
    return b"\x00" in body or any(token in shape for token in STRICT_SHAPES)


def reject_constant(token: str) -> Rejected:
    return Rejected(f"{token} (send null for a missing value)")


def finite_float(token: str) -> float | Rejected:
    value = float(token)
    return value if math.isfinite(value) else Rejected(f"{token[:40]} (it overflows a 64-bit float)")


def bounded_int(token: str) -> int | Rejected:
    digits = len(token.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        return Rejected(f"an integer of {digits} digits (at most {MAX_INTEGER_DIGITS} are read)")
    return int(token)


# json.loads' hooks that keep a refused number in place (scoring_common.Rejected) so the error names its row.
STRICT_NUMBERS = {"parse_constant": reject_constant, "parse_float": finite_float, "parse_int": bounded_int}


def split_columns(data: dict[str, Any]) -> tuple[list[str], list[Sequence[Any]], int]:
    columns, rows = data.get("columns"), data["data"]
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise BadRequest(400, "input_data in split orientation needs 'columns' (a list) and 'data' (a list of rows)")
    named = [i for i, c in enumerate(columns) if not isinstance(c, str)]
    if named:
        raise BadRequest(
            400, f"input_data.columns[{named[0]}] must be a column name (text), got {short(columns[named[0]])}"
        )
    if not set(map(type, rows)) <= {list} or not set(map(len, rows)) <= {len(columns)}:
        width = next(i for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(columns))
        raise BadRequest(400, f"input_data.data[{width}] must be a list of {len(columns)} values, one per column")
    return columns, list(zip(*rows, strict=True)), len(rows)


def record_columns(records: list[dict[str, Any]]) -> tuple[list[str], list[Sequence[Any]], int]:
    """Records as columns; a record without a column has a missing value there."""
    columns = list(dict.fromkeys(chain.from_iterable(records)))
    return columns, [list(map(methodcaller("get", name), records)) for name in columns], len(records)


def answer(scores: Scores) -> dict[str, Any]:
    """The response's prediction part: per row the prediction and, for a classifier, the probability of every
    class (in the order of `classes`) and `probability` by the shared rule (of `positive_label` for a binary
    model, of the predicted class for a multiclass one)."""
    body: dict[str, Any] = {"predictions": scores.predictions.tolist()}
    if scores.proba is not None:
        body["classes"] = scores.classes
        body["probabilities"] = scores.proba.tolist()
        body["probability"] = scores.columns()["probability"].tolist()
        if scores.positive_class is not None:
            body["positive_label"] = scores.positive_class
    return body


def read_body(request: AMLRequest, limit: int) -> bytes:
    """The request body, read up to one byte past `limit` (a longer body is refused, never read whole)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BadRequest(413, too_large(declared, limit))
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def scalar_rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts of JSON scalars (numpy values as Python ones, NaN as null) from columns of equal length: what
    is collected. Column by column; only the dicts are built per row."""
    names = list(columns)
    values = [json_scalars(column) for column in columns.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def json_scalars(column: Any) -> list[Any]:
    if isinstance(column, list):  # the ids: integers and strings already
        return column
    array = np.asarray(column)
    if array.dtype.kind in "iub":
        return array.tolist()
    objects = array.astype(object)  # Python scalars
    objects[pd.isna(array)] = None
    return objects.tolist()


class LocalCollector:
    """Writes what Azure's Collector would: one JSON line per request, under <collection>/YYYY/MM/DD/HH/.

    A line is written with one `os.write` on a file opened for appending, so lines of concurrent workers never
    interleave and a reader sees whole lines only."""

    def __init__(self, root: Path, name: str):
        self.root = root / name

    def collect(self, rows: list[dict[str, Any]], correlation_id: str) -> None:
        now = datetime.now(UTC)
        record = {"correlationid": correlation_id, "time": now.isoformat(timespec="milliseconds"), "data": rows}
        append_record(self.root, now, record)


class AzureCollectors:
    """azureml-ai-monitoring's Collector: active on Azure when the deployment's data_collector is enabled."""

    def __init__(self) -> None:
        from azureml.ai.monitoring import Collector

        def log_error(error: Exception) -> None:
            logger.warning("data collection failed: %s", error)

        self.inputs = Collector(name="model_inputs", on_error=log_error)
        self.outputs = Collector(name="model_outputs", on_error=log_error)

    def collect(self, inputs: pd.DataFrame, outputs: pd.DataFrame) -> None:
        context = self.inputs.collect(inputs)
        self.outputs.collect(outputs, context)


service: ScoringService | None = None
collectors: Any = None
operational: OperationalLog | None = None


def init() -> None:
    global service, collectors, operational
    model_dir = find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"]))
    service = ScoringService(
        model_dir,
        max_rows=positive_setting("MAX_ROWS_PER_REQUEST", DEFAULT_MAX_ROWS),
        id_column=os.environ.get("ID_COLUMN"),
        max_bytes=positive_setting("MAX_REQUEST_BYTES", DEFAULT_MAX_BYTES),
    )
    local_dir = os.environ.get("MLOPS_COLLECT_DIR")
    if local_dir:
        collectors = {name: LocalCollector(Path(local_dir), name) for name in ("model_inputs", "model_outputs")}
        operational = OperationalLog(Path(local_dir), os.environ.get("MLOPS_DEPLOYMENT", "unknown"), log_failure)
    else:
        try:
            collectors = AzureCollectors()
        except Exception as exc:  # the package is optional off Azure; scoring must not depend on it
            logger.warning("data collection off: %s", exc)
            collectors = None
    logger.info("loaded model %s version %s from %s", service.name, service.version, model_dir)


def positive_setting(name: str, default: int) -> int:
    """An integer >= 1 from the environment (the deployment's environment_variables), else `default`."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise RuntimeError(f"environment variable {name}: expected an integer >= 1, got {text!r}")
    return int(text)


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    assert service is not None, "init() was not called"
    started = time.perf_counter()
    correlation_id = (
        request.headers.get("x-ms-client-request-id") or request.headers.get("x-request-id") or str(uuid.uuid4())
    )
    outcome = Outcome()
    try:
        response = answer_request(request, correlation_id, outcome)
        outcome.status = response.status_code
        return response
    finally:  # an exception (the model failed) is the server's 500
        if operational is not None:
            operational.record(outcome.status, (time.perf_counter() - started) * 1000, outcome.rows, correlation_id)


class Outcome:
    """What the operational record says of a request: its status (500 until answered) and rows (once parsed)."""

    __slots__ = ("rows", "status")

    def __init__(self) -> None:
        self.status, self.rows = 500, None


def answer_request(request: AMLRequest, correlation_id: str, outcome: Outcome) -> AMLResponse:
    if request.method != "POST":
        return respond(405, {"error": "use POST with a JSON body"}, correlation_id)
    try:
        columns, values, rows = service.parse(read_body(request, service.max_bytes))
        outcome.rows = rows
        features, ids = service.conform(columns, values, rows)
    except BadRequest as problem:
        return respond(problem.status, {"error": problem.message}, correlation_id)
    scores = service.predict(features)  # a failure of the model raises: the server answers 500, nothing is collected
    identity = {"model": {"name": service.name, "version": service.version}, "correlation_id": correlation_id}
    body = {**answer(scores), **identity}
    if ids is not None:
        body["ids"] = ids
    response = respond(200, body, correlation_id)
    # Collected once the 200 answer is built and sent (the server closes a response after writing it): nothing of
    # a failed request is collected, and collecting adds nothing to the client's wait.
    response.call_on_close(partial(collect, features, ids, scores, correlation_id))
    return response


def log_failure(error: Exception) -> None:
    logger.warning("operational record not written: %s", error)


def collect(features: dict[str, np.ndarray], ids: list[Any] | None, scores: Scores, correlation_id: str) -> None:
    if collectors is None:
        return
    try:
        if isinstance(collectors, dict):
            identified = {service.id_column: ids} if ids is not None else {}
            # The columns the batch deployment writes too (scoring_common's rule); monitoring/monitor.yml reads them.
            collectors["model_inputs"].collect(scalar_rows({**identified, **features}), correlation_id)
            collectors["model_outputs"].collect(scalar_rows({**identified, **scores.columns()}), correlation_id)
        else:
            collectors.collect(*frames(features, ids, scores))
    except Exception as exc:  # collection is best effort; the prediction has been made
        logger.warning("data collection failed: %s", exc)


def frames(features: dict[str, np.ndarray], ids: list[Any] | None, scores: Scores) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inputs and outputs as the Azure Collector takes them (the id column first)."""
    inputs = pd.DataFrame(features)
    outputs = pd.DataFrame(scores.columns())
    if ids is not None:
        inputs.insert(0, service.id_column, pd.Series(ids, dtype=object))
        outputs.insert(0, service.id_column, pd.Series(ids, dtype=object))
    return inputs, outputs


def respond(status: int, body: dict[str, Any], correlation_id: str) -> AMLResponse:
    return AMLResponse(
        json.dumps(body, allow_nan=False),
        status,
        {"Content-Type": "application/json", "x-ms-client-request-id": correlation_id},
    )
