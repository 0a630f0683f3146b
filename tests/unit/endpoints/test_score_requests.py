"""endpoints/online/score.py's strict request parsing, one crafted input at a time, and its rule that only answered
(2xx) requests are collected: each case's status code and a fragment of the error that names the field, column
and row; nothing of a refused or failed request in the collected JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scoring_scripts import ID_COLUMN, collected_rows, flask_request, init_script, post, reset_collected, sample

LIMIT_BYTES = 64 * 1024
MAX_ROWS = 20


@pytest.fixture(scope="module")
def online(diabetes_model, tmp_path_factory) -> SimpleNamespace:
    collect = tmp_path_factory.mktemp("collected")
    settings = {
        "AZUREML_MODEL_DIR": str(diabetes_model.version_dir),
        "ID_COLUMN": ID_COLUMN,
        "MAX_ROWS_PER_REQUEST": str(MAX_ROWS),
        "MAX_REQUEST_BYTES": str(LIMIT_BYTES),
        "MLOPS_COLLECT_DIR": str(collect),
    }
    return SimpleNamespace(script=init_script("online/score.py", "online_score_requests", settings), collect=collect)


@pytest.fixture
def fresh(online) -> SimpleNamespace:
    """The online script with nothing collected yet."""
    reset_collected(online.collect)
    return online


def with_cell(column: str, token: str, row: int = 0) -> bytes:
    """The sample request with one cell replaced by a raw JSON token (NaN, 1e999... cannot come from json.dumps)."""
    body = sample()
    body["input_data"]["data"][row][body["input_data"]["columns"].index(column)] = "@CELL@"
    return json.dumps(body).encode().replace(b'"@CELL@"', token.encode())


def many_rows(copies: int) -> bytes:
    body = sample()
    body["input_data"]["data"] *= copies
    body["input_data"]["index"] = list(range(len(body["input_data"]["data"])))
    return json.dumps(body).encode()


HUGE_400 = "9" * 400
HUGE_5000 = "1" + "0" * 4999
DEEP_SMALL = b'{"input_data": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"  # within LIMIT_BYTES
NINE_DEEP = with_cell("bmi", "[[[[[1]]]]]")  # the request's 4 levels, and 5 in a cell

# name: (body, status, fragments of the error)
CRAFTED = {
    "Infinity in a feature": (with_cell("bmi", "Infinity"), 400, ["row 0: column 'bmi'", "got Infinity"]),
    "-Infinity in a feature": (with_cell("age", "-Infinity", 2), 400, ["row 2: column 'age'", "got -Infinity"]),
    "NaN in a feature": (with_cell("bmi", "NaN"), 400, ["column 'bmi'", "got NaN (send null"]),
    "1e999 in a feature": (with_cell("bmi", "1e999"), 400, ["column 'bmi'", "1e999 (it overflows a 64-bit float)"]),
    "a 400-digit integer": (with_cell("age", HUGE_400, 1), 400, ["row 1: column 'age'", "integer of 400 digits"]),
    "a 5000-digit integer": (with_cell("age", HUGE_5000), 400, ["column 'age'", "integer of 5000 digits"]),
    "beyond the magnitude limit": (with_cell("serum_insulin", "1e16"), 400, ["within +-1e+15, got 1e+16"]),
    "deep nesting": (DEEP_SMALL, 400, ["nests arrays/objects 30001 deep; the limit is 8"]),
    "nesting one level too deep": (NINE_DEEP, 400, ["nests arrays/objects 9 deep; the limit is 8"]),
    "patient_id an object": (
        with_cell(ID_COLUMN, '{"a": [1, {"b": 2}]}'),
        400,
        ["row 0: column 'patient_id' expects integer (64-bit) or string ids, got {'a': [1, {...}]}"],
    ),
    "patient_id Infinity": (with_cell(ID_COLUMN, "Infinity"), 400, ["column 'patient_id'", "got Infinity"]),
    "patient_id a 400-digit integer": (with_cell(ID_COLUMN, HUGE_400), 400, ["column 'patient_id'", "400 digits"]),
    "patient_id beyond 64 bits": (with_cell(ID_COLUMN, str(2**63)), 400, ["column 'patient_id'", "(64-bit)"]),
    "patient_id a float": (with_cell(ID_COLUMN, "200000.5"), 400, ["column 'patient_id'", "got 200000.5"]),
    "patient_id a boolean": (with_cell(ID_COLUMN, "true"), 400, ["column 'patient_id'", "got True"]),
    "patient_id missing": (with_cell(ID_COLUMN, "null", 3), 400, ["row 3: column 'patient_id' expects an id"]),
    "patient_id empty": (with_cell(ID_COLUMN, '""'), 400, ["column 'patient_id' expects an id in every row"]),
    "a list in a feature": (with_cell("bmi", "[1, 2]"), 400, ["column 'bmi' expects numbers, got [1, 2]"]),
    "a lone surrogate in text": (with_cell("sex", '"\\ud800"'), 400, ["column 'sex' expects valid Unicode"]),
    "a number in a text column": (with_cell("sex", "1"), 400, ["column 'sex' expects strings, got 1"]),
    "a column name that is not text": (
        json.dumps({"input_data": {"columns": [1], "data": [[1]]}}).encode(),
        400,
        ["input_data.columns[0] must be a column name"],
    ),
    "not UTF-8": (b'{"input_data": "\xff\xfe"}', 400, ["malformed JSON"]),
    "a body over the limit": (b" " * (LIMIT_BYTES + 1), 413, [f"the limit is {LIMIT_BYTES} (MAX_REQUEST_BYTES)"]),
    "too many rows": (
        many_rows(5),
        413,
        [f"25 rows in one request; the limit is {MAX_ROWS}"],
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_input_gets_a_4xx_naming_it_and_is_not_collected(fresh, case) -> None:
    body, status, fragments = CRAFTED[case]
    answer_status, answer = post(fresh.script, body)
    assert answer_status == status, answer
    for fragment in fragments:
        assert fragment in answer["error"]
    assert collected_rows(fresh.collect) == []


def test_100k_deep_nesting_and_the_default_body_limit(diabetes_model, tmp_path) -> None:
    """The deployments' own limits (blue.yml and green.yml set no MAX_REQUEST_BYTES): 4 MiB, depth 8."""
    settings = {
        "AZUREML_MODEL_DIR": str(diabetes_model.version_dir),
        "ID_COLUMN": ID_COLUMN,
        "MLOPS_COLLECT_DIR": str(tmp_path),
    }
    script = init_script("online/score.py", "online_score_defaults", settings)
    assert script.service.max_bytes == script.DEFAULT_MAX_BYTES == 4 * 1024 * 1024
    deep = b'{"input_data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, answer = post(script, deep)
    assert (status, answer["error"]) == (
        400,
        "the JSON body nests arrays/objects 100001 deep; the limit is 8 (a request needs 4)",
    )
    deep_in_string = with_cell("sex", json.dumps("[" * 100_000))  # brackets inside a string do not nest
    assert post(script, deep_in_string)[0] == 200  # an unknown category, which the encoder ignores
    text = json.dumps(sample()).encode()
    assert post(script, text + b" " * (script.DEFAULT_MAX_BYTES - len(text)))[0] == 200
    status, answer = post(script, text + b" " * (script.DEFAULT_MAX_BYTES - len(text) + 1))
    assert status == 413 and "the limit is 4194304 (MAX_REQUEST_BYTES)" in answer["error"]
    assert len(collected_rows(tmp_path)) == 5 + 5  # the two answered requests


def test_a_body_over_the_limit_without_content_length_is_refused_unread(fresh) -> None:
    body = json.dumps(sample()).encode() + b" " * LIMIT_BYTES
    request = flask_request(body, chunked=True)
    assert request.content_length is None
    response = fresh.script.run(request)
    assert response.status_code == 413
    assert f"the limit is {LIMIT_BYTES}" in json.loads(response.get_data())["error"]
    assert len(request.stream.read()) == len(body) - LIMIT_BYTES - 1  # read one byte past the limit, no more


def test_a_body_at_the_limit_is_read_whole(fresh) -> None:
    text = json.dumps(sample()).encode()
    body = text + b" " * (LIMIT_BYTES - len(text))
    assert post(fresh.script, body, chunked=True)[0] == 200


def test_values_at_the_limits_are_answered_and_collected(fresh) -> None:
    body = sample()
    columns = body["input_data"]["columns"]
    body["input_data"]["data"][0][columns.index("serum_insulin")] = 1e15
    body["input_data"]["data"][1][columns.index("serum_insulin")] = -(10**15)
    body["input_data"]["data"][2][columns.index(ID_COLUMN)] = 2**63 - 1
    body["input_data"]["data"][3][columns.index(ID_COLUMN)] = "text id é"
    body["input_data"]["data"][4][columns.index("bmi")] = None
    status, answer = post(fresh.script, body)
    assert status == 200, answer
    assert answer["ids"] == [200000, 200001, 2**63 - 1, "text id é", 200004]
    rows = collected_rows(fresh.collect)
    assert [r[ID_COLUMN] for r in rows] == answer["ids"]
    assert rows[0]["serum_insulin"] == 1e15 and rows[4]["bmi"] is None


def test_the_forest_scores_the_extreme_allowed_values(diabetes_forest, tmp_path) -> None:
    """Tree models compute in float32 after scaling: 1e300 in the smallest-spread feature failed inside the
    model (a 500); the bound keeps every allowed value scoreable."""
    settings = {"AZUREML_MODEL_DIR": str(diabetes_forest.version_dir), "ID_COLUMN": ID_COLUMN}
    script = init_script("online/score.py", "online_score_forest", settings)
    body = sample()
    column = body["input_data"]["columns"].index("diabetes_pedigree")
    for row, value in enumerate([1e15, -1e15, 5e-324, 0.0, 1e-15]):
        body["input_data"]["data"][row][column] = value
    status, answer = post(script, body)
    assert status == 200, answer
    assert len(answer["predictions"]) == 5
    assert post(script, with_cell("diabetes_pedigree", "1e300"))[0] == 400


def test_records_orientation_with_a_bad_id_names_its_record(fresh) -> None:
    records = json.loads((Path(__file__).parents[3] / "endpoints/online/sample-request-records.json").read_text())
    records["input_data"][1][ID_COLUMN] = [1]
    status, answer = post(fresh.script, records)
    assert status == 400
    assert answer["error"] == ("input_data row 1: column 'patient_id' expects integer (64-bit) or string ids, got [1]")


def test_a_model_failure_is_a_500_and_nothing_is_collected(fresh, monkeypatch) -> None:
    def broken(features):
        raise RuntimeError("the model is broken")

    monkeypatch.setattr(fresh.script.service.model, "predict_proba", broken)
    with pytest.raises(RuntimeError, match="the model is broken"):  # the server turns it into a 500
        fresh.script.run(flask_request(json.dumps(sample()).encode()))
    assert collected_rows(fresh.collect) == []


def test_an_answer_that_cannot_be_built_collects_nothing(fresh, monkeypatch) -> None:
    """The response is serialised before anything is collected: a NaN probability (a model failure) fails it."""
    model = fresh.script.service.model
    monkeypatch.setattr(model, "predict_proba", lambda features: np.full((len(features), 2), np.nan))
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        fresh.script.run(flask_request(json.dumps(sample()).encode()))
    assert collected_rows(fresh.collect) == []


def test_a_request_is_collected_after_its_answer_is_sent(fresh) -> None:
    """run() returns the answer first; the server writes it, then closes the response, which collects it."""
    response = fresh.script.run(flask_request(json.dumps(sample()).encode()))
    assert response.status_code == 200
    assert collected_rows(fresh.collect) == []
    response.get_data()
    response.close()
    assert len(collected_rows(fresh.collect)) == len(collected_rows(fresh.collect, "model_outputs")) == 5


def test_one_answered_request_is_one_complete_line_per_collection(fresh) -> None:
    for _ in range(3):
        assert post(fresh.script, sample(), headers={"x-ms-client-request-id": "corr-1"})[0] == 200
    for collection in ("model_inputs", "model_outputs"):
        files = list((fresh.collect / collection).rglob("*.jsonl"))
        lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
        assert len(lines) == 3 and {line["correlationid"] for line in lines} == {"corr-1"}
    assert len(collected_rows(fresh.collect)) == 15
    assert [r["prediction"] for r in collected_rows(fresh.collect, "model_outputs")][:5] == post(
        fresh.script, sample()
    )[1]["predictions"]


@pytest.mark.parametrize(
    ("variable", "value"), [("MAX_REQUEST_BYTES", "4MB"), ("MAX_ROWS_PER_REQUEST", "0"), ("MAX_ROWS_PER_REQUEST", "-1")]
)
def test_a_bad_limit_setting_fails_init_naming_the_variable(diabetes_model, variable, value) -> None:
    settings = {"AZUREML_MODEL_DIR": str(diabetes_model.version_dir), variable: value}
    with pytest.raises(RuntimeError, match=f"environment variable {variable}: expected an integer >= 1, got '{value}'"):
        init_script("online/score.py", "online_score_bad_setting", settings)
