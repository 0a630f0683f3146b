"""The run report written by the local engine: every run gets `report.html` in its run folder, named in run.json
and logged to the pipeline's MLflow run; a failed or stopped run too. On the tiny fixture project, and on the
trained state (`-m e2e`: the gate's verdict of each of its four runs). The page itself: tests/unit/run_report/."""

from __future__ import annotations

import json
import signal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlops.errors import Interrupted, StepFailed
from mlops.project.layout import Layout
from mlops.reports.run_report import REPORT_FILE
from mlops.targets.local.jobs import submit as run_pipeline

PIPELINE = Path("pipelines/scale_and_total.yml")


class Sections(HTMLParser):
    def __init__(self, path: Path):
        super().__init__()
        self.found: dict[str, dict[str, str]] = {}
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "section":
            self.found[values["id"]] = {k[5:]: v for k, v in values.items() if k.startswith("data-")}


def recorded_report(run_dir: Path, tracking_uri: str) -> Path:
    """The page run.json names, after checking it is the run folder's and is the pipeline run's artifact."""
    record = json.loads((run_dir / "run.json").read_text())
    report = Path(record["report"])
    assert report == run_dir / REPORT_FILE and report.is_file()
    artifacts = [a.path for a in MlflowClient(tracking_uri=tracking_uri).list_artifacts(record["run_id"])]
    assert REPORT_FILE in artifacts
    return report


def test_a_pipeline_run_writes_its_page_and_logs_it(miniproject):
    run = run_pipeline(miniproject / PIPELINE, ["jobs.total.inputs.track=true"], echo=lambda _: None)
    report = recorded_report(run.run_dir, run.state.tracking_uri)
    assert set(Sections(report).found) == {"metrics", "lineage"}
    text = report.read_text()
    assert "azureml:numbers:1" in text  # the data asset the run read
    assert "scale_numbers:1" in text and "components/scale/src" in text  # each step's component and code
    assert "total <b>18</b>" in text  # what the total step logged to MLflow


def test_a_failed_run_gets_a_page_naming_the_step(miniproject):
    with pytest.raises(StepFailed):
        run_pipeline(miniproject / PIPELINE, ["jobs.scale.inputs.fail=true"], echo=lambda _: None)
    state = Layout(miniproject).state
    run_dir = next(state.runs.iterdir())
    report = recorded_report(run_dir, state.tracking_uri)
    assert Sections(report).found["failure"] == {"step": "scale"}
    assert "about to fail on purpose" in report.read_text()  # the step's log tail


def test_a_stopped_run_gets_a_page_naming_the_step(miniproject):
    def stop_when_total_starts(line: str) -> None:
        if line.split()[1:3] == ["total", "running"]:
            raise Interrupted(signal.SIGTERM)

    with pytest.raises(Interrupted):
        run_pipeline(miniproject / PIPELINE, [], echo=stop_when_total_starts)
    state = Layout(miniproject).state
    report = recorded_report(next(state.runs.iterdir()), state.tracking_uri)
    assert Sections(report).found["failure"] == {"step": "total"}
    assert "KILLED during step &#x27;total&#x27;" in report.read_text()


@pytest.mark.e2e
@pytest.mark.xdist_group("trained")
def test_each_training_run_shows_its_gates_verdict_and_registration(trained):
    results, _ = trained
    verdicts = {}
    for name, run in results.items():
        report = recorded_report(run.run_dir, run.state.tracking_uri)
        sections = Sections(report).found
        assert {"gate", "metrics", "registration", "lineage", "plots", "fairness", "data"} <= set(sections), name
        verdicts[name] = sections["gate"]["verdict"]
    assert verdicts == {"first_weak": "passed", "better": "passed", "same": "failed", "worse": "failed"}
    better = (results["better"].run_dir / REPORT_FILE).read_text()
    assert "registered diabetes-classifier version 2 (champion)" in better
    assert "azureml:diabetes-training:1" in better and "components/train/src" in better
    assert "not registered, the champion stays" in (results["worse"].run_dir / REPORT_FILE).read_text()
