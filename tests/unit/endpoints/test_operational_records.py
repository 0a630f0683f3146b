"""endpoints/online/score.py's operational records: one per request run() answers, whatever its status (2xx, 4xx,
a model failure's 500), with no feature values; a failed write never fails the request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from scoring_scripts import ID_COLUMN, flask_request, init_script, operational_records, post, reset_collected, sample

from mlops.monitoring.operational import COLUMNS

FIELDS = list(COLUMNS)


@pytest.fixture(scope="module")
def online(diabetes_model, tmp_path_factory) -> SimpleNamespace:
    collect = tmp_path_factory.mktemp("collected-ops")
    settings = {
        "AZUREML_MODEL_DIR": str(diabetes_model.version_dir),
        "ID_COLUMN": ID_COLUMN,
        "MAX_ROWS_PER_REQUEST": "10",
        "MLOPS_COLLECT_DIR": str(collect),
        "MLOPS_DEPLOYMENT": "blue",
    }
    return SimpleNamespace(script=init_script("online/score.py", "online_operational", settings), collect=collect)


@pytest.fixture
def fresh(online) -> SimpleNamespace:
    reset_collected(online.collect)
    return online


def test_every_answer_is_recorded_with_its_status_rows_and_latency(fresh):
    good = sample()
    rows = len(good["input_data"]["data"])
    too_many = sample()
    too_many["input_data"]["data"] *= 5
    assert post(fresh.script, good, headers={"x-ms-client-request-id": "ok-1"})[0] == 200
    assert post(fresh.script, b"{not json")[0] == 400
    assert post(fresh.script, too_many)[0] == 413
    assert fresh.script.run(flask_request(b"", method="GET")).status_code == 405
    records = operational_records(fresh.collect)
    assert [(r["status"], r["rows"]) for r in records] == [(200, rows), (400, None), (413, None), (405, None)]
    assert all(list(r) == FIELDS and r["deployment"] == "blue" and r["latency_ms"] >= 0 for r in records)
    assert records[0]["correlationid"] == "ok-1"
    when = datetime.fromisoformat(records[0]["time"])
    assert when.tzinfo is not None and abs((datetime.now(UTC) - when).total_seconds()) < 60


def test_a_request_refused_after_its_rows_were_read_records_its_rows(fresh):
    body = sample()
    body["input_data"]["data"][0][body["input_data"]["columns"].index("bmi")] = "thirty"
    assert post(fresh.script, body)[0] == 400
    (record,) = operational_records(fresh.collect)
    assert (record["status"], record["rows"]) == (400, len(body["input_data"]["data"]))


def test_no_feature_value_is_ever_in_a_record(fresh):
    body = sample()
    assert post(fresh.script, body)[0] == 200
    text = "".join(f.read_text() for f in (fresh.collect / "operational").rglob("*.jsonl"))
    operational_records(fresh.collect)
    for column in body["input_data"]["columns"]:
        assert column not in text
    assert "glucose" not in text


def test_a_model_failure_is_recorded_as_500_and_still_raises(fresh, monkeypatch):
    def broken(_features):
        raise RuntimeError("the model failed")

    monkeypatch.setattr(fresh.script.service, "predict", broken)
    with pytest.raises(RuntimeError, match="the model failed"):
        fresh.script.run(flask_request(json.dumps(sample()).encode()))
    (record,) = operational_records(fresh.collect)
    assert (record["status"], record["rows"]) == (500, len(sample()["input_data"]["data"]))


def test_a_failed_write_never_fails_the_request(fresh, monkeypatch, caplog):
    log = fresh.script.operational
    monkeypatch.setattr(log, "folder", fresh.collect / "not-a-folder" / "operational")
    (fresh.collect / "not-a-folder").write_text("a file where the folder should be")
    dropped = log.dropped
    assert post(fresh.script, sample())[0] == 200
    assert log.dropped == dropped + 1
    assert "operational record not written" in caplog.text


def test_a_long_correlation_id_is_cut(fresh):
    assert post(fresh.script, sample(), headers={"x-ms-client-request-id": "x" * 1000})[0] == 200
    (record,) = operational_records(fresh.collect)
    assert record["correlationid"] == "x" * 128
