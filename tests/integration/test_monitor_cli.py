"""`mlops monitor` on files: batch windows, collected JSON lines, the retrain rule, CI outputs, bad input; the
operations section from a served local endpoint's records; and the Azure monitor schedule sent exactly as loaded
from monitoring/monitor.yml."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from mlops.cli import main
from mlops.project import loaders as azureml
from mlops.project.layout import Layout
from mlops.targets.azure import monitor as azure_monitor
from mlops.targets.local import batch, online
from mlops.targets.local.loop import free_port
from mlops.targets.local.registry import materialize

REPO = Path(__file__).resolve().parents[2]

# All users of the session-scoped `trained` fixture run in one xdist worker, so it is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]


@pytest.fixture(scope="module")
def scored(trained, repo_root, tmp_path_factory):
    """Both production batches scored by the champion with the batch driver: {name: (inputs, predictions)}."""
    results, _ = trained
    state = results["better"].state
    model_dir = materialize(state, Layout(REPO, state.root).catalog.model("diabetes-classifier"))
    settings = batch.BatchSettings.from_yaml(repo_root / "endpoints" / "batch" / "deployment.yml")
    out = {}
    for name in ("baseline", "drifted"):
        source = repo_root / "data" / "production" / f"{name}.csv"
        folder = tmp_path_factory.mktemp(f"scored-{name}")
        summary = batch.invoke(settings, model_dir, source, folder, folder / "w.log", echo=lambda _: None)
        out[name] = (source, summary.output)
    return out


@pytest.fixture
def isolated_state(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return tmp_path


def monitor(*args):
    return main(["monitor", *map(str, args)])


def test_drifted_batch_breaches_exactly_the_drifted_features_and_exits_1(scored, repo_root, isolated_state, capsys):
    source, predictions = scored["drifted"]
    code = monitor(
        "--production", source, "--predictions", predictions, "--window", "w1", "--history", isolated_state / "h"
    )
    out = capsys.readouterr().out
    assert code == 1
    drifted = json.loads((repo_root / "data" / "production" / "drift.json").read_text())["drifted_features"]
    window = isolated_state / "state" / "monitoring" / "diabetes-classifier" / "w1"
    report = json.loads(next(window.rglob("report.json")).read_text())
    data_drift = next(signal for signal in report["signals"] if signal["name"] == "data_drift")
    breached = {f["feature"] for f in data_drift["features"] if f["breached"]}
    assert breached == set(drifted)
    assert "Retrain: no" in out
    assert next(window.rglob("report.html")).stat().st_size > 1000


def test_baseline_batch_does_not_breach_and_exits_0(scored, isolated_state):
    source, predictions = scored["baseline"]
    assert monitor("--production", source, "--predictions", predictions, "--history", isolated_state / "h") == 0


def test_the_retrain_rule_and_ci_outputs(scored, isolated_state, monkeypatch, repo_root):
    source, predictions = scored["drifted"]
    outputs = isolated_state / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    runs = []
    monkeypatch.setattr("mlops.targets.local.jobs.submit", lambda *a, **k: runs.append(a))
    args = ("--production", source, "--predictions", predictions, "--history", isolated_state / "h", "--retrain")
    monitor(*args, "--window", "day-1")
    assert runs == []  # 1 of 1 breached windows: M=2 not reached yet
    assert "breached=true\nretrain=false\n" in outputs.read_text()
    monitor(*args, "--window", "day-1")
    assert runs == []  # the same window again replaces its verdict: still 1 breached window
    monitor(*args, "--window", "day-2")
    assert len(runs) == 1  # 2 of the last 2, latest breached: retrain
    assert runs[0] == (repo_root / "pipelines" / "train.yml", [])  # the monitored model's own pipeline
    assert outputs.read_text().count("retrain=true") == 1


def test_collected_json_lines_are_a_window(scored, isolated_state):
    source, predictions = scored["baseline"]
    inputs, outputs = pd.read_csv(source), pd.read_csv(predictions)
    collected = isolated_state / "collected"
    for collection, frame in (
        ("model_inputs", inputs),
        ("model_outputs", outputs[["patient_id", "prediction", "probability"]]),
    ):
        folder = collected / collection / "2026" / "11" / "26" / "10"
        folder.mkdir(parents=True)
        with (folder / "data.jsonl").open("w") as handle:
            for start in range(0, len(frame), 500):  # one line per "request" of 500 rows
                rows = json.loads(frame.iloc[start : start + 500].to_json(orient="records"))
                handle.write(json.dumps({"correlationid": f"r{start}", "data": rows}) + "\n")
    assert monitor("--collected", collected, "--history", isolated_state / "h") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--predictions", "x.csv"], "--predictions goes with --production"),
        (["--production", "nope.csv"], "nope.csv: no such file or folder"),
        (["--collected", "empty-folder"], "no collected data"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(isolated_state, capsys, args, message):
    (isolated_state / "empty-folder").mkdir()
    args = [str(isolated_state / a) if a.endswith((".csv", "folder")) else a for a in args]
    assert monitor(*args) == 2
    assert message in capsys.readouterr().err


def _operational_lines(folder: Path) -> int:
    return sum(len(f.read_text().splitlines()) for f in (folder / "operational").rglob("*.jsonl"))


def test_operations_of_the_served_endpoint_counts_errors_exactly(trained, repo_root, isolated_state, capsys):
    """Serve the champion on 127.0.0.1, send 6 good and 5 bad requests (bounded), then report its operations."""
    results, _ = trained
    state = results["better"].state
    layout = Layout(repo_root, state.root).for_model()
    model = layout.project.catalog.model("diabetes-classifier")
    live = online.Deployment.from_yaml(layout.live_deployment)
    collect = state.collected_for(live.endpoint, live.name, model.name)
    shutil.rmtree(collect, ignore_errors=True)  # this test's traffic only (the state is shared with other tests)
    good = (repo_root / "endpoints" / "online" / "sample-request.json").read_bytes()
    too_many = json.loads(good)
    too_many["input_data"]["data"] *= 201  # 1005 rows: over blue.yml's MAX_ROWS_PER_REQUEST of 1000
    bad = [b"{not json", json.dumps({"input_data": [[1]]}).encode(), good.replace(b'"bmi"', b'"bmii"')]
    bad.append(json.dumps(too_many).encode())
    with online.deploy(layout, model, free_port()) as server:
        statuses = [online.invoke(server.url, good, timeout=10)[0] for _ in range(6)]
        statuses += [online.invoke(server.url, body, timeout=10)[0] for body in bad]
        try:
            urllib.request.urlopen(server.url + "/score", timeout=10)  # a GET
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
        pid = server.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped by PID
    assert statuses == [200] * 6 + [400, 400, 400, 413, 405]
    assert _operational_lines(collect) == 11

    args = ("--collected", collect, "--history", isolated_state / "h")
    assert monitor(*args, "--window", "ops", "--ops-only") == 0
    out = capsys.readouterr().out
    assert "Operations: 11 requests" in out
    report = json.loads(next((isolated_state / "state" / "monitoring").rglob("operations.json")).read_text())
    overall, blue = report["overall"], report["deployments"][live.name]
    assert overall["requests"] == blue["requests"] == 11
    assert overall["status_counts"] == {"2xx": 6, "4xx": 5, "5xx": 0, "other": 0}
    assert (overall["error_rate_4xx"], overall["error_rate_5xx"]) == (5 / 11, 0.0)
    assert overall["rows_scored"] == 30
    latency = overall["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert report["input"]["malformed_lines"] == 0

    assert monitor(*args, "--window", "ops", "--ops-only", "--max-4xx-rate", "0.4") == 1  # 45% > 40%
    assert "BREACH (all): error_rate_4xx 45.5% > 40%" in capsys.readouterr().out

    monitor(*args, "--window", "full")  # the model signals and the operations section in one report
    out = capsys.readouterr().out
    assert "Operations: 11 requests" in out
    full = json.loads(next((isolated_state / "state" / "monitoring").rglob("full/*/report.json")).read_text())
    assert full["operational"]["overall"]["status_counts"]["4xx"] == 5
    assert "<h2>Operations" in next((isolated_state / "state" / "monitoring").rglob("full/*/report.html")).read_text()


def test_an_endpoint_without_requests_reports_no_requests(isolated_state, capsys):
    (isolated_state / "collected").mkdir()
    assert monitor("--collected", isolated_state / "collected", "--ops-only") == 0
    assert "Operations: no requests" in capsys.readouterr().out


def test_azure_monitor_schedule_is_sent_as_loaded(repo_root):
    sent = []
    client = SimpleNamespace(
        schedules=SimpleNamespace(
            begin_create_or_update=lambda s: (sent.append(s), SimpleNamespace(result=lambda: s))[1]
        )
    )
    config = repo_root / "monitoring" / "monitor.yml"
    azure_monitor.schedule(client, config, echo=lambda _: None)
    assert sent[0]._to_dict() == azureml.load_entity(config)._to_dict()
    assert Path(config).is_file()
