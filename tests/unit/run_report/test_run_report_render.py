"""The run report (mlops.reports.run_report) on synthetic run folders: which sections a run's evidence brings,
what a failed or stopped run's page says, escaping, and that nothing on the page leaves it (no script, no
http(s) link or source). The engine's side (pipeline, MLflow) is in tests/integration/test_run_report_runs.py."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops.reports import run_report
from mlops.reports.run_report import REPORT_FILE, RunFacts, publish, render
from mlops.targets.local.loop import training_summary

# A 1x1 PNG: enough to be embedded.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
NASTY = "<script>alert('x')</script>\"&"


class Page(HTMLParser):
    """The sections (id -> data- attributes) and every tag's attributes of a rendered page."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, dict[str, str]] = {}
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if tag == "section":
            self.sections[values["id"]] = {k[5:]: v for k, v in values.items() if k.startswith("data-")}


def write_json(folder: Path, name: str, content: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(content))


def step(status: str = "completed", outputs: dict[str, Path] | None = None, **extra: Any) -> dict[str, Any]:
    record = {"status": status, "seconds": 1.5, "mlflow_run_id": f"run-{status}", "reused_from": None}
    record["outputs"] = {name: str(path) for name, path in (outputs or {}).items()}
    return record | extra


def decision(passed: bool, mode: str = "enabled") -> dict[str, Any]:
    return {
        "mode": mode,
        "primary_metric": "roc_auc",
        "candidate_value": 0.81,
        "champion_version": "1",
        "champion_value": 0.83,
        "checks": [
            {"name": "min_metric", "passed": True, "detail": "candidate roc_auc 0.81 >= min_metric 0.75"},
            {"name": "min_improvement", "passed": passed, "detail": "improvement over champion version 1"},
        ],
        "passed": passed,
        "would_register": passed,
        "register": passed or mode == "dry_run",
        "reason": "Not registering the candidate." if not passed else "All gate checks passed.",
    }


def write_table(folder: Path, frame: pd.DataFrame) -> None:
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "data.parquet", index=False)
    (folder / "MLTable").write_text("paths:\n  - file: ./data.parquet\n")


@pytest.fixture
def trained_run(tmp_path: Path) -> RunFacts:
    """A train.yml-shaped run whose gate declined the candidate: every section has its evidence."""
    run_dir = tmp_path / "runs" / "abc123"
    prep, evaluation, registration = (run_dir / "prep" / "outputs", run_dir / "evaluate" / "outputs" / "evaluation",
                                      run_dir / "register" / "outputs" / "registration")  # fmt: skip
    train = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "diabetic": [0, 1, 0, 0]})
    write_table(prep / "train_data", train)
    write_table(prep / "test_data", train.head(2))
    write_json(prep / "profile", "profile.json", {
        "task": "classification", "rows": 6, "columns": 2, "input_rows": 6, "input_columns": 3,
        "dropped_columns": ["noise"], "missing_value_rate": 0.1,
        "sources": [{"file": "diabetes.csv", "sha256": "ab" * 32}],
        "target": {"column": "diabetic", "positive_label": 1},
        "split": {"test_size": 0.2, "seed": 42, "stratified": True, "train_rows": 4, "test_rows": 2},
    })  # fmt: skip
    write_json(evaluation, "metrics.json", {"roc_auc": 0.81, "accuracy": 0.75})
    write_json(evaluation, "champion_metrics.json", {"roc_auc": 0.83, "accuracy": 0.77})
    write_json(evaluation, "decision.json", decision(passed=False))
    write_json(evaluation, "fairness.json", {
        "sensitive_feature": "sex",
        "groups": {"female": {"count": 30, "selection_rate": 0.2}, "male": {"count": 31, "selection_rate": 0.3}},
        "differences": {"selection_rate": 0.1},
        "disparities": {"demographic_parity_difference": 0.1},
    })  # fmt: skip
    (evaluation / "roc_curve.png").write_bytes(PNG)
    write_json(registration, "registration.json", {"registered": False, "reason": "the gate said no"})
    record = {
        "run_id": "abc123",
        "pipeline": "/somewhere/pipelines/train.yml",
        "status": "completed",
        "seconds": 75.0,
        "steps": {
            "prep": step(outputs={n: prep / n for n in ("train_data", "test_data", "profile")}),
            "train": step("reused", reused_from="first-run"),
            "evaluate": step(outputs={"evaluation": evaluation}),
            "register": step(outputs={"registration": registration}),
        },
    }
    return RunFacts(
        record,
        run_dir,
        title="train-diabetes-classifier",
        data_inputs={"training_data": "azureml:diabetes-training:1"},
        components={"prep": "prep_data:1"},
        code_folders={"prep": "components/prep/src"},
        step_metrics={"train": {"training_roc_auc": 0.9, "training_rows": 4.0}},
        git_commit="0123abc",
        read_table=lambda folder: pd.read_parquet(folder / "data.parquet"),
    )


def test_a_run_with_every_kind_of_evidence_shows_every_section(trained_run):
    text = render(trained_run)
    page = Page(text)
    assert list(page.sections) == ["gate", "metrics", "registration", "lineage", "plots", "fairness", "data"]
    assert page.sections["gate"] == {"verdict": "failed", "mode": "enabled"}
    assert "gate (enabled): checks failed; not registered, the champion stays" in text
    assert "champion version 1 (same rows)" in text and "0.8300" in text  # the champion's metrics beside
    assert "training_roc_auc <b>0.9000</b>" in text and "training_rows <b>4</b>" in text
    assert "azureml:diabetes-training:1" in text and "components/prep/src" in text and "first-run" in text
    assert "data:image/png;base64," in text
    assert "demographic_parity_difference" in text and "female" in text
    # the splits as the prep step wrote them: rows, columns, missing share, target balance
    assert "<td>prep.train_data</td><td>4</td><td>2</td><td>12.50%</td><td>0: 75.0% · 1: 25.0%</td>" in text
    assert "<td>prep.test_data</td><td>2</td><td>2</td><td>25.00%</td><td>0: 50.0% · 1: 50.0%</td>" in text


def test_without_a_table_reader_the_splits_come_from_profile_json(trained_run):
    trained_run.read_table = None
    text = render(trained_run)
    assert "<td>train</td><td>4</td><td>2</td>" in text
    assert "prep.train_data" not in text


def test_a_run_without_evidence_has_only_its_lineage(tmp_path):
    record = {"run_id": "r1", "pipeline": "job.yml", "status": "completed", "seconds": 2.0,
              "steps": {"hello": step(outputs={"out": tmp_path / "missing"})}}  # fmt: skip
    page = Page(render(RunFacts(record, tmp_path)))
    assert list(page.sections) == ["lineage"]


def test_broken_evidence_is_left_out_not_an_error(trained_run):
    evaluation = Path(trained_run.record["steps"]["evaluate"]["outputs"]["evaluation"])
    (evaluation / "decision.json").write_text("{not json")
    (evaluation / "metrics.json").write_text("[1, 2]")
    sections = Page(render(trained_run)).sections
    assert "gate" not in sections
    assert "metrics" in sections  # what the steps logged to MLflow is still there
    trained_run.step_metrics = {}
    assert "metrics" not in Page(render(trained_run)).sections


def test_a_disabled_gate_says_so(trained_run):
    evaluation = Path(trained_run.record["steps"]["evaluate"]["outputs"]["evaluation"])
    write_json(evaluation, "decision.json", {"mode": "disabled", "checks": [], "passed": None, "register": True})
    assert Page(render(trained_run)).sections["gate"]["verdict"] == "disabled"


def test_a_regression_run_shows_the_targets_summary(trained_run):
    profile = Path(trained_run.record["steps"]["prep"]["outputs"]["profile"]) / "profile.json"
    profile.write_text(json.dumps({"task": "regression", "target": {"column": "diabetic"}}))
    text = render(trained_run)
    assert "target summary" in text and "mean 0.2500" in text and "max 1" in text


def test_a_failed_run_says_which_step_failed_and_shows_its_log(tmp_path):
    log = tmp_path / "train" / "user_logs" / "std_log.txt"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {n}\n" for n in range(100)) + "error: no column 'y'\n")
    record = {"run_id": "r2", "pipeline": "train.yml", "status": "failed", "seconds": 9.0,
              "steps": {"prep": step(), "train": step("failed", exit_code=2, log=str(log)),
                        "evaluate": step("skipped")}}  # fmt: skip
    text = render(RunFacts(record, tmp_path))
    page = Page(text)
    assert page.sections["failure"] == {"step": "train"}
    assert next(iter(page.sections)) == "failure"
    assert "FAILED at step &#x27;train&#x27; (exit code 2)" in text
    assert "error: no column &#x27;y&#x27;" in text and "line 99" in text
    assert "line 10\n" not in text  # only the log's last lines
    assert "<th>skipped steps</th><td>evaluate</td>" in text


def test_a_stopped_run_names_the_step_it_stopped(tmp_path):
    record = {"run_id": "r3", "pipeline": "train.yml", "status": "killed", "seconds": 3.0,
              "steps": {"prep": step(), "train": step("killed")}}  # fmt: skip
    text = render(RunFacts(record, tmp_path))
    assert Page(text).sections["failure"] == {"step": "train"}
    assert "KILLED during step &#x27;train&#x27;" in text


def test_names_and_messages_are_escaped(trained_run):
    evaluation = Path(trained_run.record["steps"]["evaluate"]["outputs"]["evaluation"])
    gate = decision(passed=True) | {"reason": NASTY, "mode": NASTY}
    gate["checks"][0]["name"] = NASTY
    write_json(evaluation, "decision.json", gate)
    fairness = json.loads((evaluation / "fairness.json").read_text())
    fairness["groups"][NASTY] = {"count": 1}
    write_json(evaluation, "fairness.json", fairness)
    trained_run.record["steps"][NASTY] = step()
    trained_run.title = NASTY
    text = render(trained_run)
    assert "<script" not in text and NASTY not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;" in text
    assert Page(text).sections["gate"]["mode"] == NASTY  # an attribute, escaped, reads back as written


def test_nothing_on_the_page_leaves_it(trained_run):
    evaluation = Path(trained_run.record["steps"]["evaluate"]["outputs"]["evaluation"])
    write_json(evaluation, "decision.json", decision(True) | {"reason": "see https://example.com/x"})
    trained_run.data_inputs["remote"] = "https://example.com/data.csv"
    page = Page(render(trained_run))
    links = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items() if name in ("src", "href")]
    assert links, "the page has no link or image at all"
    assert all(value.startswith(("#", "data:")) for _, _, value in links), links
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "object", "embed")]
    assert {value[1:] for tag, _, value in links if tag == "a"} <= set(page.sections)  # every link has its section


class FakeClient:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.logged: list[tuple[str, str]] = []

    def log_artifact(self, run_id: str, path: str) -> None:
        if self.fail:
            raise OSError("artifact store is read-only")
        self.logged.append((run_id, path))


def test_publish_writes_the_page_and_logs_it_to_the_pipelines_run(trained_run, monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(run_report, "_from_mlflow", lambda facts, client: None)
    written = publish(trained_run.run_dir, trained_run.record, client=client)
    path = trained_run.run_dir / REPORT_FILE
    assert written == {"report": str(path)}
    assert client.logged == [("abc123", str(path))]
    assert Page(path.read_text()).sections["gate"]["verdict"] == "failed"


def test_a_page_that_cannot_be_logged_or_written_is_a_warning(trained_run, monkeypatch, capsys):
    monkeypatch.setattr(run_report, "_from_mlflow", lambda facts, client: None)
    assert publish(trained_run.run_dir, trained_run.record, client=FakeClient(fail=True)) == {
        "report": str(trained_run.run_dir / REPORT_FILE)
    }
    assert "not logged to MLflow: artifact store is read-only" in capsys.readouterr().err
    assert publish(trained_run.run_dir / "gone", trained_run.record) == {}
    assert "the run report was not written" in capsys.readouterr().err


def test_the_summary_names_the_page_when_there_is_one(tmp_path):
    assert "run report:" not in training_summary({}, tmp_path, tmp_path)
    (tmp_path / REPORT_FILE).write_text("<!doctype html>")
    assert f"run report: {tmp_path / REPORT_FILE}" in training_summary({}, tmp_path, tmp_path).splitlines()
