"""Scoring script of the online deployments (blue.yml, green.yml), run by the Azure ML inference server.

The same file serves on Azure and locally (`mlops serve` runs `azmlinfsrv` with it). It accepts the request
formats Azure ML's no-code MLflow deployments accept, so clients can move between the two:

    {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}     (pandas split orientation)
    {"input_data": [{"column": value, ...}, ...]}                                (records)

and answers with predictions, class probabilities (all classes, and `probability` by the rule in
../scoring_common.py), the model name and version, and a correlation id. Bad input gets an explicit 4xx whose
message names the problem; the inference server would turn an exception into a 500. Inputs and outputs are
collected for model monitoring: with azureml-ai-monitoring's Collector on Azure, and as JSONL files under
MLOPS_COLLECT_DIR locally (same records, joinable by correlation id).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

# The deployment uploads endpoints/ (code_configuration.code: ../); the code both deployments share is at its root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring_common import Scores, find_model_dir, model_identity, plain, positive_label, score

logger = logging.getLogger("score")

NUMERIC_TYPES = {"double", "float", "long", "integer"}
STRING_TYPES = {"string"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ScoringService:
    """Everything `run()` needs, loaded once by `init()`."""

    def __init__(self, model_dir: Path, max_rows: int, id_column: str | None):
        mlmodel = mlflow.models.Model.load(str(model_dir))
        if mlmodel.signature is None:
            raise RuntimeError(f"{model_dir}: the MLflow model has no signature to validate requests against")
        self.columns = {spec.name: (spec.type.name, spec.required) for spec in mlmodel.signature.inputs}
        self.model = mlflow.sklearn.load_model(str(model_dir))
        self.positive = positive_label(mlmodel.metadata)
        self.name, self.version = model_identity(model_dir)
        self.max_rows = max_rows
        self.id_column = id_column or None

    def parse(self, body: bytes) -> pd.DataFrame:
        try:
            payload = json.loads(body or b"")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(400, f"malformed JSON: {exc}") from None
        if not isinstance(payload, dict) or "input_data" not in payload:
            raise BadRequest(400, "expected a JSON object with 'input_data' (split or records orientation)")
        data = payload["input_data"]
        if isinstance(data, dict) and "data" in data:
            columns, rows = data.get("columns"), data["data"]
            if not isinstance(columns, list) or not isinstance(rows, list):
                raise BadRequest(
                    400, "input_data in split orientation needs 'columns' (a list) and 'data' (a list of rows)"
                )
            width = [i for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(columns)]
            if width:
                raise BadRequest(
                    400, f"input_data.data[{width[0]}] must be a list of {len(columns)} values, one per column"
                )
            frame = pd.DataFrame(rows, columns=columns, dtype=object)
        elif isinstance(data, list) and all(isinstance(row, dict) for row in data):
            frame = pd.DataFrame(data, dtype=object) if data else pd.DataFrame()
        else:
            raise BadRequest(400, "input_data must be {'columns': [...], 'data': [[...]]} or a list of records")
        if len(frame) == 0:
            raise BadRequest(400, "input_data has no rows")
        if len(frame) > self.max_rows:
            raise BadRequest(
                413, f"{len(frame)} rows in one request; the limit is {self.max_rows} (MAX_ROWS_PER_REQUEST)"
            )
        if frame.columns.duplicated().any():
            raise BadRequest(400, f"duplicate columns: {sorted(set(frame.columns[frame.columns.duplicated()]))}")
        return frame

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Check the columns against the model signature and give each its declared type."""
        allowed = set(self.columns) | ({self.id_column} if self.id_column else set())
        unknown = [c for c in frame.columns if c not in allowed]
        if unknown:
            raise BadRequest(400, f"unknown column(s) {unknown}; the model takes {list(self.columns)}")
        missing = [name for name, (_, required) in self.columns.items() if required and name not in frame.columns]
        if missing:
            raise BadRequest(400, f"missing column(s) {missing}")
        features = {}
        for name, (type_name, _) in self.columns.items():
            values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
            features[name] = convert(name, type_name, values)
        return pd.DataFrame(features)

    def predict(self, features: pd.DataFrame) -> Scores:
        return score(self.model, features, self.positive)


def answer(scores: Scores) -> dict[str, Any]:
    """The response's prediction part: per row the prediction and, for a classifier, the probability of every
    class (in the order of `classes`) and `probability` by the shared rule (of `positive_label` for a binary
    model, of the predicted class for a multiclass one)."""
    body: dict[str, Any] = {"predictions": [plain(v) for v in scores.predictions]}
    if scores.proba is not None:
        body["classes"] = scores.classes
        body["probabilities"] = scores.proba.tolist()
        body["probability"] = scores.columns()["probability"].tolist()
        if scores.positive_class is not None:
            body["positive_label"] = scores.positive_class
    return body


def convert(name: str, type_name: str, values: pd.Series) -> np.ndarray | pd.Series:
    """One column to its signature type; None/NaN stay missing (the model's imputers fill them)."""
    if type_name in NUMERIC_TYPES:
        bad = [v for v in values if not (is_missing(v) or (isinstance(v, int | float) and not isinstance(v, bool)))]
        if bad:
            raise BadRequest(400, f"column '{name}' expects numbers, got {bad[0]!r}")
        return np.array([np.nan if is_missing(v) else float(v) for v in values], dtype="float64")
    if type_name in STRING_TYPES:
        bad = [v for v in values if not (is_missing(v) or isinstance(v, str))]
        if bad:
            raise BadRequest(400, f"column '{name}' expects strings, got {bad[0]!r}")
        return np.array([None if is_missing(v) else v for v in values], dtype=object)
    return values


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class LocalCollector:
    """Writes what Azure's Collector would: one JSON line per request, under <collection>/YYYY/MM/DD/HH/."""

    def __init__(self, root: Path, name: str):
        self.root = root / name

    def collect(self, frame: pd.DataFrame, correlation_id: str) -> None:
        now = datetime.now(UTC)
        folder = self.root / now.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "correlationid": correlation_id,
            "time": now.isoformat(timespec="milliseconds"),
            "data": json.loads(frame.to_json(orient="records")),
        }
        with (folder / "data.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


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


def init() -> None:
    global service, collectors
    model_dir = find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"]))
    service = ScoringService(
        model_dir,
        max_rows=int(os.environ.get("MAX_ROWS_PER_REQUEST", "1000")),
        id_column=os.environ.get("ID_COLUMN"),
    )
    local_dir = os.environ.get("MLOPS_COLLECT_DIR")
    if local_dir:
        collectors = {name: LocalCollector(Path(local_dir), name) for name in ("model_inputs", "model_outputs")}
    else:
        try:
            collectors = AzureCollectors()
        except Exception as exc:  # the package is optional off Azure; scoring must not depend on it
            logger.warning("data collection off: %s", exc)
            collectors = None
    logger.info("loaded model %s version %s from %s", service.name, service.version, model_dir)


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    assert service is not None, "init() was not called"
    correlation_id = (
        request.headers.get("x-ms-client-request-id") or request.headers.get("x-request-id") or str(uuid.uuid4())
    )
    if request.method != "POST":
        return respond(405, {"error": "use POST with a JSON body"}, correlation_id)
    try:
        frame = service.parse(request.get_data())
        features = service.conform(frame)
    except BadRequest as problem:
        return respond(problem.status, {"error": problem.message}, correlation_id)
    scores = service.predict(features)
    collect(frame, features, scores, correlation_id)
    identity = {"model": {"name": service.name, "version": service.version}, "correlation_id": correlation_id}
    body = {**answer(scores), **identity}
    if service.id_column and service.id_column in frame.columns:
        body["ids"] = [None if is_missing(v) else plain(v) for v in frame[service.id_column]]
    return respond(200, body, correlation_id)


def collect(frame: pd.DataFrame, features: pd.DataFrame, scores: Scores, correlation_id: str) -> None:
    if collectors is None:
        return
    inputs = features.copy()
    # The columns the batch deployment writes too (scoring_common's rule); monitoring/monitor.yml reads them.
    outputs = pd.DataFrame(scores.columns())
    if service and service.id_column and service.id_column in frame.columns:
        inputs.insert(0, service.id_column, frame[service.id_column].to_numpy())
        outputs.insert(0, service.id_column, frame[service.id_column].to_numpy())
    try:
        if isinstance(collectors, dict):
            collectors["model_inputs"].collect(inputs, correlation_id)
            collectors["model_outputs"].collect(outputs, correlation_id)
        else:
            collectors.collect(inputs, outputs)
    except Exception as exc:  # collection is best effort; the prediction has been made
        logger.warning("data collection failed: %s", exc)


def respond(status: int, body: dict[str, Any], correlation_id: str) -> AMLResponse:
    return AMLResponse(
        json.dumps(body, allow_nan=False),
        status,
        {"Content-Type": "application/json", "x-ms-client-request-id": correlation_id},
    )
