"""`mlops monitor` on windows that are broken, partial or tiny, through the CLI's entry point: one row per case —
what is wrong, the exit code (0 ok, 1 a breach, 2 bad input) and a fragment of what the command prints. Never a
traceback. monitoring/README.md ("Small, partial and malformed windows") states the rules.

The windows are made from the committed baseline batch (500 of its rows, which raise no drift) with the labels as
the predictions (a perfect model: nothing about the outputs breaches), so no model is trained here. Collected
windows are written the way the online deployment's data collector writes them: one JSON line per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mlops.cli import main
from mlops.monitoring.history import append_history, read_history

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "data" / "production"
# One worker runs them all: the first `mlops monitor` of a process pays for the imports, the SDK's check of the
# monitor YAML and the surrogate on the reference data (cached for the next windows); the others take about a second.
pytestmark = pytest.mark.xdist_group("monitor-cli")

MONITOR = "diabetes_classifier_monitoring"  # monitoring/monitor.yml's name: its history entries
ROWS, ROWS_PER_LINE = 500, 10  # 50 request lines per collection


@pytest.fixture(scope="module")
def window() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(inputs, outputs) of a quiet window: the baseline's first rows, and their labels as predictions."""
    inputs = pd.read_csv(PRODUCTION / "baseline.csv").head(ROWS)
    truth = pd.read_csv(PRODUCTION / "ground_truth.csv")
    outputs = inputs[["patient_id"]].merge(truth, on="patient_id").rename(columns={"diabetic": "prediction"})
    return inputs, outputs.assign(probability=outputs["prediction"] * 0.8 + 0.1)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(REPO))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return tmp_path


def lines(frame: pd.DataFrame) -> list[bytes]:
    """One data-collector JSON line per request of ROWS_PER_LINE rows."""
    return [
        json.dumps({"correlationid": f"r{start}", "data": json.loads(part.to_json(orient="records"))}).encode()
        for start in range(0, len(frame), ROWS_PER_LINE)
        for part in [frame.iloc[start : start + ROWS_PER_LINE]]
    ]


def collected(folder: Path, inputs: list[bytes] | None, outputs: list[bytes] | None, *, end: bytes = b"\n") -> Path:
    """A data-collector tree; a collection given as None is not there. `end` ends each file's last line."""
    for name, content in (("model_inputs", inputs), ("model_outputs", outputs)):
        if content is not None:
            (folder / name / "2026" / "11" / "26" / "10").mkdir(parents=True)
            (folder / name / "2026" / "11" / "26" / "10" / "data.jsonl").write_bytes(b"\n".join(content) + end)
    return folder


def request(**row: object) -> bytes:
    return json.dumps({"correlationid": "bad", "data": [row]}).encode()


def a_row(inputs: pd.DataFrame, **changes: object) -> dict:
    return {**json.loads(inputs.head(1).to_json(orient="records"))[0], "patient_id": 999_999, **changes}


INPUTS_FILE = "model_inputs/2026/11/26/10/data.jsonl"
Case = Callable[[Path, pd.DataFrame, pd.DataFrame], list[str]]


def with_lines(*extra: bytes, end: bytes = b"\n", outputs_extra: tuple[bytes, ...] = ()) -> Case:
    """The quiet window plus `extra` lines at the end of model_inputs (and `outputs_extra` of model_outputs)."""

    def make(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
        tree = collected(folder, [*lines(inputs), *extra], [*lines(outputs), *outputs_extra], end=end)
        return ["--collected", str(tree)]

    return make


def only_lines(inputs_content: list[bytes] | None, outputs_content: list[bytes] | None) -> Case:
    def make(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
        return ["--collected", str(collected(folder, inputs_content, outputs_content))]

    return make


def head_rows(rows: int) -> Case:
    def make(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
        return ["--collected", str(collected(folder, lines(inputs.head(rows)), lines(outputs.head(rows))))]

    return make


def mixed_id_types(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
    as_text = outputs.assign(patient_id=outputs["patient_id"].astype(str))  # "200000" here, 200000 in the inputs
    return ["--collected", str(collected(folder, lines(inputs), lines(as_text)))]


def batch(predictions: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame], rows: int | None = ROWS) -> Case:
    """A batch window: the baseline's first `rows` rows (all with None) and the predictions file made from them."""

    def make(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
        folder.mkdir(parents=True)
        frame = pd.read_csv(PRODUCTION / "baseline.csv")
        frame = frame if rows is None else frame.head(rows)
        truth = pd.read_csv(PRODUCTION / "ground_truth.csv")
        labels = frame[["patient_id"]].merge(truth, on="patient_id").rename(columns={"diabetic": "prediction"})
        frame.to_csv(folder / "inputs.csv", index=False)
        predictions(frame, labels).to_csv(folder / "predictions.csv", index=False)
        return ["--production", str(folder / "inputs.csv"), "--predictions", str(folder / "predictions.csv")]

    return make


def missing_folder(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
    return ["--collected", str(folder / "nowhere")]


def list_value(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
    return with_lines(request(**a_row(inputs, bmi=[30.1, 31.2])))(folder, inputs, outputs)


def text_in_numeric(folder: Path, inputs: pd.DataFrame, outputs: pd.DataFrame) -> list[str]:
    answered = request(patient_id=999_999, prediction=0, probability=0.1)
    return with_lines(request(**a_row(inputs, bmi="thirty")), outputs_extra=(answered,))(folder, inputs, outputs)


# case: (window, exit code, fragments of stdout + stderr)
CASES: dict[str, tuple[Case, int, tuple[str, ...]]] = {
    "torn last line": (
        with_lines(b'{"correlationid": "r9", "data": [{"patient_id": 2000', end=b""),
        0,
        ("Input: skipped 1 malformed line (of 101):", f"{INPUTS_FILE}:51 (not valid JSON", "cut off while being"),
    ),
    "garbage line": (with_lines(b"\x00\x01 garbage"), 0, (f"{INPUTS_FILE}:51 (not valid JSON",)),
    "not UTF-8": (with_lines(b'{"data": [{"sex": "\xff"}]}'), 0, (f"{INPUTS_FILE}:51 (not UTF-8 text",)),
    "a line that is not an object": (with_lines(b"[1, 2, 3]"), 0, ("(a JSON list, not an object with a 'data'",)),
    "dict id (the old crash)": (
        with_lines(request(patient_id={"a": [1, {"b": 2}]}), outputs_extra=(request(patient_id={"a": [1]}),)),
        0,
        ("skipped 2 malformed lines (of 102)", "row 1: 'patient_id' is a JSON object", "feature_attribution_drift"),
    ),
    "list as a feature value": (list_value, 0, (f"{INPUTS_FILE}:51 (row 1: 'bmi' is a JSON list",)),
    # Not malformed: a wrong scalar type is what data_quality's type-error rate measures (threshold 0: a breach).
    "text in a numeric feature": (
        text_in_numeric,
        1,
        ("BREACH bmi: data_type_error_rate 0.002 > 0", "feature_attribution_drift    feature_attribution_drift ok"),
    ),
    "ids of different types in inputs and outputs": (mixed_id_types, 0, ("model_performance", "ok, 1 checked")),
    "too many malformed lines": (
        with_lines(b"garbage", b"garbage", b"garbage"),
        2,
        ("3 of 53 lines malformed, more than the 1 tolerated", "first: {tmp}/w/" + f"{INPUTS_FILE}:51 (not valid JSON"),
    ),
    "window with 0 valid lines": (
        only_lines([b"garbage", b"[]"], [b"garbage"]),
        2,
        ("no rows to monitor in 2 line(s) of 1 file(s) (2 malformed; first malformed:", f"{INPUTS_FILE}:1"),
    ),
    "empty window": (only_lines([b"", b"  "], [b""]), 2, ("no rows to monitor in 0 line(s)",)),
    "missing collected folder": (missing_folder, 2, ("nowhere/model_inputs: no collected data (*.jsonl)",)),
    "no model_outputs": (only_lines(lines(pd.DataFrame({"a": [1]})), None), 2, ("model_outputs: no collected data",)),
    "1-row window": (head_rows(1), 0, ("ok (6 signal(s) with not enough data)", "not enough data: 1 row(s)")),
    "header-only batch output": (
        batch(lambda frame, labels: labels.head(0)),
        2,
        ("predictions.csv: the table has a header but no data rows",),
    ),
    "200 of 2000 predictions": (
        batch(lambda frame, labels: labels.head(200), rows=None),
        0,
        (
            "prediction_drift             prediction_drift          not enough data: predictions for 200 of 2000 "
            "input rows (10%, matched by patient_id) < minimum coverage 90% (properties.mlops.min_prediction_coverage)",
            "data_drift                   data_drift                ok, 11 checked",
        ),
    ),
    "predictions of another window": (
        batch(lambda frame, labels: labels.assign(patient_id=labels["patient_id"] + 10**6)),
        2,
        ("none of the 500 predictions is for one of the window's 500 input rows (matched by patient_id)",),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_window(case: str, state: Path, window, capsys: pytest.CaptureFixture[str]) -> None:
    make, expected_code, fragments = CASES[case]
    args = make(state / "w", *window)
    code = main(["monitor", *args, "--window", "w", "--history", str(state / "history")])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == expected_code, output
    for fragment in fragments:
        assert fragment.replace("{tmp}", str(state)) in output, output
    assert "Traceback" not in output
    if expected_code == 2:
        assert captured.err.startswith("error: ") and len(captured.err.strip().splitlines()) == 1
        assert not (state / "history").exists()  # nothing written for a refused window
    else:
        assert read_history(state / "history", MONITOR)[-1]["window"] == "w"


def test_a_one_row_window_breaches_nothing_and_does_not_count_for_retraining(
    state: Path, window, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With one breached window recorded (M=2 of N=3), a 1-row window neither breaches nor counts: no retrain, and
    the next breached window is judged against 1 counted window, not 2."""
    runs: list[tuple] = []
    monkeypatch.setattr("mlops.targets.local.jobs.submit", lambda *a, **k: runs.append(a))
    history = state / "history"
    append_history(history, {"monitor": MONITOR, "window": "day-1", "breached_signals": {"data_drift": ["bmi"]}})
    tree = collected(state / "w", lines(window[0].head(1)), lines(window[1].head(1)))
    code = main(["monitor", "--collected", str(tree), "--window", "day-2", "--history", str(history), "--retrain"])
    out = capsys.readouterr().out
    assert code == 0 and runs == []
    assert "Retrain: no — this window does not count: no retrain signal had enough data to judge it" in out
    report = json.loads(next((state / "state" / "monitoring").rglob("report.json")).read_text())
    assert report["breached"] is False and report["breached_signals"] == {}
    assert report["retrain"]["considered_windows"] == 1 and report["retrain"]["latest_counted"] is False
    assert {s["status"] for s in report["signals"]} == {"not enough data"}
    assert len(report["not_enough_data"]) == 6
    assert read_history(history, MONITOR)[-1]["evaluated_signals"] == []


def test_skipped_lines_are_in_the_report(state: Path, window, capsys: pytest.CaptureFixture[str]) -> None:
    tree = collected(state / "w", [*lines(window[0]), b"garbage"], lines(window[1]))
    assert main(["monitor", "--collected", str(tree), "--window", "w", "--history", str(state / "history")]) == 0
    capsys.readouterr()
    folder = next((state / "state" / "monitoring").rglob("report.json")).parent
    report = json.loads((folder / "report.json").read_text())
    assert report["input"]["lines"] == 101 and report["input"]["malformed_lines"] == 1
    assert report["input"]["malformed"][0]["where"] == f"{tree / INPUTS_FILE}:51"
    assert "skipped 1 malformed line (of 101)" in (folder / "report.html").read_text()
