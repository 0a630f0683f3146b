"""endpoints/online/score.py on the Azure ML inference server: in-process through the server's own Flask app
(table-driven bad input), and over real HTTP with azmlinfsrv on 127.0.0.1 (smoke and a bounded load test)."""

from __future__ import annotations

import builtins
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from mlops.errors import MlopsError
from mlops.project.layout import Layout
from mlops.targets.local import online
from mlops.targets.local.loop import free_port, request_frame
from mlops.targets.local.registry import materialize

REPO = Path(__file__).resolve().parents[2]

# All users of the session-scoped `trained` fixture run in one xdist worker, so it is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]
MAX_ROWS = 50


@pytest.fixture(scope="module")
def champion(trained):
    results, _ = trained
    state = results["better"].state
    model = Layout(REPO, state.root).catalog.model("diabetes-classifier")
    return state, model, materialize(state, model)


@pytest.fixture(scope="module")
def app_client(champion, repo_root, tmp_path_factory):
    """The inference server's Flask app with score.py, in this process (its config is read once, at import)."""
    _, _, model_dir = champion
    collect = tmp_path_factory.mktemp("collected")
    settings = {
        "AZUREML_ENTRY_SCRIPT": str(repo_root / "endpoints" / "online" / "score.py"),
        "AZUREML_MODEL_DIR": str(model_dir),
        "MLOPS_COLLECT_DIR": str(collect),
        "ID_COLUMN": "patient_id",
        "MAX_ROWS_PER_REQUEST": str(MAX_ROWS),
    }
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    original_print = builtins.print  # the server redirects print() to its logger, process-wide
    try:
        from azureml_inference_server_http.server.create_app import create

        yield create().test_client(), collect
    finally:
        builtins.print = original_print
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def model_and_features(champion):
    _, _, model_dir = champion
    folder = next(model_dir.rglob("MLmodel")).parent
    return mlflow.sklearn.load_model(str(folder)), list(
        mlflow.models.Model.load(str(folder)).signature.inputs.input_names()
    )


def sample(repo_root, name="sample-request.json"):
    return json.loads((repo_root / "endpoints" / "online" / name).read_text())


def split_with(repo_root, change):
    body = sample(repo_root)
    change(body["input_data"])
    return body


def test_both_orientations_score_and_match_the_models_own_predict(app_client, repo_root, model_and_features):
    client, _ = app_client
    model, features = model_and_features
    for name in ("sample-request.json", "sample-request-records.json"):
        body = sample(repo_root, name)
        response = client.post("/score", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = response.get_json()
        expected = model.predict(request_frame(body)[features]).tolist()
        assert answer["predictions"] == expected
        assert answer["classes"] == [0, 1]
        assert all(abs(sum(row) - 1) < 1e-5 for row in answer["probabilities"])
        assert answer["model"] == {"name": "diabetes-classifier", "version": "2"}
        assert answer["ids"] == [
            row["patient_id"] for row in sample(repo_root, "sample-request-records.json")["input_data"]
        ]


def test_correlation_id_is_echoed_and_collected_inputs_and_outputs_join_on_it(app_client, repo_root):
    client, collect = app_client
    response = client.post("/score", json=sample(repo_root), headers={"x-ms-client-request-id": "req-42"})
    assert response.get_json()["correlation_id"] == "req-42"
    assert response.headers["x-ms-client-request-id"] == "req-42"
    response.close()  # the server closes a response once written: score.py collects the request then
    records = {}
    for collection in ("model_inputs", "model_outputs"):
        lines = [
            json.loads(line) for f in (collect / collection).rglob("*.jsonl") for line in f.read_text().splitlines()
        ]
        records[collection] = next(r for r in lines if r["correlationid"] == "req-42")
    inputs, outputs = records["model_inputs"]["data"], records["model_outputs"]["data"]
    assert [r["patient_id"] for r in inputs] == [r["patient_id"] for r in outputs]
    assert {"prediction", "probability"} <= set(outputs[0])
    assert "plasma_glucose" in inputs[0]


def test_an_optional_column_may_be_left_out(app_client, repo_root):
    client, _ = app_client

    def drop_bmi(data):
        index = data["columns"].index("bmi")  # bmi has missing values in training: the signature makes it optional
        data["columns"].pop(index)
        for row in data["data"]:
            row.pop(index)

    assert client.post("/score", json=split_with(repo_root, drop_bmi)).status_code == 200


def set_cell(column, value):
    def change(data):
        data["data"][0][data["columns"].index(column)] = value

    return change


def rename(old, new):
    def change(data):
        data["columns"][data["columns"].index(old)] = new

    return change


BAD_REQUESTS = {
    "malformed JSON": (b"{not json", 400, "malformed JSON"),
    "no input_data": ({"data": []}, 400, "'input_data'"),
    "input_data of the wrong shape": ({"input_data": [[1, 2, 3]]}, 400, "must be {'columns'"),
    "row of the wrong width": (lambda d: d["data"][0].pop(), 400, "input_data.data[0] must be a list of 12 values"),
    "empty input": (lambda d: d.update(data=[], index=[]), 400, "input_data has no rows"),
    "too many rows": (lambda d: d.update(data=d["data"] * 20, index=list(range(100))), 413, f"the limit is {MAX_ROWS}"),
    "unknown column": (rename("age", "agee"), 400, "unknown column(s) ['agee']"),
    "missing required column": (lambda d: _drop(d, "plasma_glucose"), 400, "missing column(s) ['plasma_glucose']"),
    "text in a numeric column": (set_cell("bmi", "thirty"), 400, "column 'bmi' expects numbers, got 'thirty'"),
    "boolean in a numeric column": (set_cell("age", True), 400, "column 'age' expects numbers, got True"),
    "number in a text column": (set_cell("sex", 1), 400, "column 'sex' expects strings, got 1"),
    "duplicate columns": (rename("age", "bmi"), 400, "duplicate columns"),
}


def _drop(data, column):
    index = data["columns"].index(column)
    data["columns"].pop(index)
    for row in data["data"]:
        row.pop(index)


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_input_gets_an_explicit_4xx_naming_the_problem(app_client, repo_root, case):
    client, _ = app_client
    request, status, message = BAD_REQUESTS[case]
    if callable(request):
        response = client.post("/score", json=split_with(repo_root, request))
    elif isinstance(request, bytes):
        response = client.post("/score", data=request, content_type="application/json")
    else:
        response = client.post("/score", json=request)
    assert response.status_code == status, response.get_data(as_text=True)
    assert message in response.get_json()["error"]


def test_get_is_refused_with_405(app_client):
    client, _ = app_client
    assert client.get("/score").status_code == 405


def test_real_http_server_on_loopback_smoke_and_bounded_load(champion, repo_root, model_and_features):
    state, model_ref, _ = champion
    model, features = model_and_features
    body = (repo_root / "endpoints" / "online" / "sample-request.json").read_bytes()
    expected = model.predict(request_frame(json.loads(body))[features]).tolist()
    layout = Layout(repo_root, state.root).for_model()
    live = online.Deployment.from_yaml(layout.live_deployment)
    collected_before = collected_lines(state.collected_for(live.endpoint, live.name, model_ref.name))
    with online.deploy(layout, model_ref, free_port()) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.workers == online.local_worker_count(
            live.worker_count()
        )  # the YAML's WORKER_COUNT, at most the cores
        assert f"Worker Count: {server.workers}" in server.log.read_text()  # what azmlinfsrv itself reports
        port = int(server.url.rsplit(":", 1)[1])
        record = json.loads((state.serving / "server.json").read_text())  # written once ours answered
        assert (record["pid"], record["url"], server.log.name) == (server.pid, server.url, f"server-{port}.log")
        assert online.running_server_url(state) == server.url
        with pytest.raises(MlopsError, match=f"port {port} on 127.0.0.1 is in use; pass --port"):
            online.deploy(layout, model_ref, port)  # refused before anything starts
        for file in Layout(repo_root).for_model().sample_requests():
            status, answer = online.invoke(server.url, file.read_bytes())
            assert status == 200 and answer["model"]["version"] == "2"

        def one(_index):
            status, answer = online.invoke(server.url, body, timeout=10)
            return status == 200 and answer["predictions"] == expected

        with ThreadPoolExecutor(max_workers=8) as pool:  # bounded: 2,000 requests, 10 s timeout each
            outcomes = list(pool.map(one, range(2000)))
        assert outcomes.count(False) == 0
        pid = server.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped by PID
    assert not (state.serving / "server.json").exists()  # it named this server
    # Every answered request was collected after its answer was sent, by whichever worker answered it.
    answered = len(Layout(repo_root).for_model().sample_requests()) + len(outcomes)
    assert collected_lines(server.collect_dir) - collected_before == answered


def collected_lines(collect_dir: Path) -> int:
    """model_outputs records (one per answered request) under a deployment's collection folder."""
    return sum(len(f.read_bytes().splitlines()) for f in (collect_dir / "model_outputs").rglob("*.jsonl"))


def test_collected_rows_are_readable_as_one_frame(app_client):
    _, collect = app_client
    lines = [
        json.loads(line) for f in (collect / "model_inputs").rglob("*.jsonl") for line in f.read_text().splitlines()
    ]
    frame = pd.DataFrame([row for record in lines for row in record["data"]])
    assert len(frame) >= 5 and "patient_id" in frame.columns
    assert Path(collect).is_dir()
