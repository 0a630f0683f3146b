"""Helpers of the endpoint tests: the scoring scripts loaded from the repository as their deployments load them, a
small diabetes model (trained once per test process by the `diabetes_model` fixtures of conftest.py), real Flask
requests, and the collected JSON lines read the way the monitor reads them.

The model is the training component's own pipeline (`estimators.build_pipeline`: imputation, scaling, one-hot
encoding) on the first rows of the sample data, saved as an MLflow model with a signature under an Azure-like
`azureml-models/<name>/<version>/`, so the scripts see what a deployment of the real champion sees.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
ENDPOINTS = REPO / "endpoints"
COMPONENTS = REPO / "components"
SAMPLE = ENDPOINTS / "online" / "sample-request.json"
TRAINING_ROWS = 300
ID_COLUMN = "patient_id"


def load_script(relative: str, name: str) -> ModuleType:
    """A fresh module of endpoints/`relative` (each deployment under test needs its own module globals)."""
    import azureml_inference_server_http.server  # noqa: F401  (provides azureml.contrib.services, as on Azure)

    spec = importlib.util.spec_from_file_location(name, ENDPOINTS / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def init_script(relative: str, name: str, settings: dict[str, str]) -> ModuleType:
    """Load a scoring script and run its init() with `settings` as its environment (as the deployment sets it)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        module = load_script(relative, name)
        module.init()
    return module


@dataclass(frozen=True)
class Model:
    version_dir: Path  # AZUREML_MODEL_DIR
    estimator: Any  # the fitted pipeline
    columns: list[str]  # the signature's inputs


def train(root: Path, estimator: str) -> Model:
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature

    for path in (COMPONENTS / "shared", COMPONENTS / "train" / "src"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from estimators import build_estimator, build_pipeline

    definition = _model_definition()
    numeric, categorical = definition["numeric_features"], definition["categorical_features"]
    frame = pd.read_csv(REPO / "data" / "diabetes-training" / "diabetes.csv", nrows=TRAINING_ROWS)
    features = frame[numeric + categorical]
    hyperparameters = {"n_estimators": 5, "max_depth": 3, "seed": 0, "c": 1.0, "max_iter": 200}
    model, _ = build_estimator(estimator, "classification", hyperparameters)
    pipeline = build_pipeline(numeric, categorical, model).fit(features, frame[definition["target"]])
    version_dir = root / "azureml-models" / definition["name"] / "1"
    mlflow.sklearn.save_model(
        pipeline,
        str(version_dir / "model"),
        signature=infer_signature(features, pipeline.predict(features)),
        metadata={"positive_label": definition["positive_label"]},
        # cloudpickle, not the component's skops: importing skops alone takes seconds; loading is not under test
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        pip_requirements=[],  # inferring them would start a process that loads the model (seconds)
    )
    return Model(version_dir, pipeline, list(features.columns))


def _model_definition() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((REPO / "models" / "diabetes-classifier.yml").read_text())


def sample() -> dict[str, Any]:
    """The online sample request (split orientation), a fresh copy."""
    return json.loads(SAMPLE.read_text())


def flask_request(body: bytes, headers: dict[str, str] | None = None, method: str = "POST", chunked: bool = False):
    """A real Flask request, what the inference server passes to a @rawhttp run() (AMLRequest is its subclass for
    type hints; its constructor takes no WSGI environ). `chunked`: no Content-Length, as with chunked encoding."""
    from flask import Request
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(method=method, data=body, content_type="application/json", headers=headers or {})
    environ = builder.get_environ()
    if chunked:
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    return Request(environ)


def post(online: ModuleType, body: bytes | dict, **kwargs: Any) -> tuple[int, Any]:
    """(status, parsed JSON answer) of the online script's run() for `body` (a dict is sent as JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = served(online, flask_request(data, **kwargs))
    return response.status_code, json.loads(response.get_data())


def served(online: ModuleType, request: Any) -> Any:
    """The online script's response to `request` handled as the inference server does: its body written out, then
    the response closed, which runs what run() left for after the answer (collecting the request)."""
    response = online.run(request)
    response.get_data()
    response.close()
    return response


SCALARS = (str, int, float, bool, type(None))


def collected_rows(folder: Path, collection: str = "model_inputs") -> list[dict[str, Any]]:
    """Every row collected under `folder`, checked the way the monitor reads them: files end with a newline, each
    line is one JSON object whose `data` is a list of rows whose values are all scalars, and the monitor's own line
    reader (`mlops.monitoring.collected.parse_line`) finds nothing malformed."""
    from mlops.monitoring.collected import parse_line

    rows: list[dict[str, Any]] = []
    for file in sorted((folder / collection).rglob("*.jsonl")):
        content = file.read_bytes()
        assert content.endswith(b"\n"), f"{file}: the last line is incomplete"
        for number, line in enumerate(content.split(b"\n")[:-1], start=1):
            record = json.loads(line)
            assert isinstance(record, dict) and isinstance(record["data"], list), f"{file}:{number}"
            for row in record["data"]:
                assert all(isinstance(v, SCALARS) for v in row.values()), f"{file}:{number}: {row}"
            assert parse_line(line) == (record["data"], None), f"{file}:{number}"
            rows += record["data"]
    return rows


def reset_collected(folder: Path) -> None:
    """Empty the collection folder."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(exist_ok=True)


def operational_records(folder: Path) -> list[dict[str, Any]]:
    """The operational records under `folder`, checked by the monitor's own record parser
    (`mlops.monitoring.operational.parse_record`): nothing malformed, whole lines only."""
    from mlops.monitoring.operational import read_operational

    log = read_operational([folder / "operational"])
    assert log.malformed == (), log.malformed
    records = []
    for file in sorted((folder / "operational").rglob("*.jsonl")):
        content = file.read_bytes()
        assert content.endswith(b"\n"), f"{file}: the last line is incomplete"
        records += [json.loads(line) for line in content.splitlines()]
    return records
