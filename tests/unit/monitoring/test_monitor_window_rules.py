"""How much data a window needs, and what the monitor does with data that is not fit to use: malformed collected
lines (skipped and counted, refused past a share), a minimum number of rows per signal ("not enough data", never a
breach, never counted towards retraining), prediction coverage, ids of mixed types, values that are not scalars.
monitoring/README.md, "Small, partial and malformed windows", states the rules these tests hold the code to."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops.monitoring import attribution
from mlops.monitoring.collected import check_malformed, parse_line, read_collection, tolerated
from mlops.monitoring.config import parse_config
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.history import counts, retrain_flags
from mlops.monitoring.monitor import evaluate_window, first_non_scalar, run_signal
from mlops.monitoring.results import NOT_ENOUGH_DATA, InputLines, MalformedLine, MonitorResult
from mlops.monitoring.settings import DEFAULT_MIN_WINDOW_ROWS
from mlops.monitoring.signals import WindowData, id_keys

REPO = Path(__file__).resolve().parents[3]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"
DATA = REPO / "data"


def document(**properties: str) -> dict:
    loaded = yaml.safe_load(MONITOR_YML.read_text())
    loaded["properties"].update(properties)
    return loaded


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "diabetes-training" / "diabetes.csv")


@pytest.fixture(scope="module")
def production() -> pd.DataFrame:
    return pd.read_csv(DATA / "production" / "baseline.csv")


@pytest.fixture(scope="module")
def outputs(production: pd.DataFrame) -> pd.DataFrame:
    """The window's predictions: its labels (a perfect model), so nothing about them breaches."""
    truth = pd.read_csv(DATA / "production" / "ground_truth.csv")
    joined = production[["patient_id"]].merge(truth, on="patient_id")
    return pd.DataFrame({"patient_id": joined["patient_id"], "prediction": joined["diabetic"]})


@pytest.fixture(scope="module")
def ground_truth() -> pd.DataFrame:
    return pd.read_csv(DATA / "production" / "ground_truth.csv")


# ---------------------------------------------------------------------------------------------------------------
# Malformed collected lines

GOOD = b'{"correlationid": "r1", "data": [{"patient_id": 1, "bmi": 30.5, "sex": "male"}]}'
LINES = {
    "garbage": (b"this is not json", "not valid JSON"),
    "torn": (b'{"correlationid": "r1", "data": [{"patient_id": 1, "bm', "cut off while being written?"),
    "not UTF-8": (b'{"data": [{"sex": "\xff"}]}', "not UTF-8 text (byte 20)"),
    "a list": (b"[1, 2]", "a JSON list, not an object with a 'data' list of rows"),
    "no data": (b'{"correlationid": "r1"}', "no 'data'; expected a 'data' list of rows"),
    "data not a list": (b'{"data": "rows"}', "'data' is a JSON string; expected a 'data' list of rows"),
    "row not an object": (b'{"data": [{"bmi": 1}, 7]}', "row 2 of 'data' is a JSON number, not an object"),
    "dict id": (b'{"data": [{"patient_id": {"a": [1, {"b": 2}]}}]}', "row 1: 'patient_id' is a JSON object"),
    "list value": (b'{"data": [{"bmi": [1, 2]}]}', "row 1: 'bmi' is a JSON list; values must be numbers, text"),
}


@pytest.mark.parametrize("case", LINES)
def test_a_malformed_line_is_named_with_why(case: str) -> None:
    raw, why = LINES[case]
    rows, problem = parse_line(raw, torn=case == "torn")
    assert rows == [] and problem is not None and why in problem


def test_good_lines_and_wrong_scalar_types_are_rows() -> None:
    assert parse_line(GOOD) == ([{"patient_id": 1, "bmi": 30.5, "sex": "male"}], None)
    # Text in a numeric feature is a data-quality finding (data_type_error_rate), not a malformed line.
    assert parse_line(b'{"data": [{"bmi": "abc", "sex": null, "age": true}]}')[1] is None
    assert parse_line(b'{"data": []}') == ([], None)


@pytest.mark.parametrize(("lines", "share", "allowed"), [(10, 0.01, 1), (400, 0.01, 4), (50, 0.0, 0), (1000, 0.05, 50)])
def test_tolerated_malformed_lines(lines: int, share: float, allowed: int) -> None:
    assert tolerated(lines, share) == allowed


def test_the_reader_skips_malformed_lines_and_the_limit_names_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "model_inputs" / "2026" / "11" / "26"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(GOOD + b"\n\n" + b"garbage\n" + GOOD + b"\n" + b'{"data": [{"bmi')
    collection = read_collection(tmp_path, "model_inputs")
    assert collection.lines == 4 and len(collection.frame) == 2
    assert [m.where for m in collection.malformed] == [f"{folder / 'a.jsonl'}:3", f"{folder / 'a.jsonl'}:5"]
    assert "cut off" in collection.malformed[1].reason
    check_malformed(replace(collection, malformed=collection.malformed[:1]), 0.01)  # one is always tolerated
    with pytest.raises(MonitorInputError, match=r"2 of 4 lines malformed, more than the 1 tolerated") as error:
        check_malformed(collection, 0.01)
    assert f"first: {folder / 'a.jsonl'}:3 (not valid JSON" in str(error.value)


def test_no_valid_row_is_refused_naming_the_first_bad_line(tmp_path: Path) -> None:
    (tmp_path / "model_inputs").mkdir()
    (tmp_path / "model_inputs" / "a.jsonl").write_bytes(b"[1]\n{}\n")
    with pytest.raises(
        MonitorInputError, match=r"no rows to monitor in 2 line\(s\) of 1 file\(s\) \(2 malformed; first"
    ):
        read_collection(tmp_path, "model_inputs")
    with pytest.raises(MonitorInputError, match=r"model_outputs: no collected data"):
        read_collection(tmp_path, "model_outputs")


def test_skipped_lines_are_summarised() -> None:
    malformed = tuple(MalformedLine(f"f.jsonl:{n}", "not valid JSON") for n in (3, 7, 9, 12))
    text = InputLines(412, malformed).summary()
    assert text == (
        "skipped 4 malformed lines (of 412): f.jsonl:3 (not valid JSON); f.jsonl:7 (not valid JSON); "
        "f.jsonl:9 (not valid JSON); +1 more in the report"
    )
    assert InputLines(412).summary() is None
    assert InputLines(412, malformed).to_dict()["malformed_lines"] == 4


# ---------------------------------------------------------------------------------------------------------------
# The settings (the schedule's properties)


def test_defaults_and_overrides() -> None:
    config = parse_config(MONITOR_YML, document())
    assert {s.min_rows for s in config.signals.values()} == {DEFAULT_MIN_WINDOW_ROWS}
    assert (config.window.min_prediction_coverage, config.window.max_malformed_share) == (0.9, 0.01)
    config = parse_config(
        MONITOR_YML,
        document(
            **{
                "mlops.min_window_rows": "50",
                "mlops.min_window_rows.model_performance": "200",
                "mlops.min_prediction_coverage": "0.5",
                "mlops.max_malformed_share": "0",
            }
        ),
    )
    assert config.signals["data_drift"].min_rows == 50 and config.signals["model_performance"].min_rows == 200
    assert (config.window.min_prediction_coverage, config.window.max_malformed_share) == (0.5, 0.0)


BAD_SETTINGS = {
    "rows not a number": ({"mlops.min_window_rows": "many"}, r"min_window_rows: 'many' is not a whole number"),
    "rows a fraction": ({"mlops.min_window_rows": "2.5"}, r"min_window_rows: '2.5' is not a whole number"),
    "rows zero": ({"mlops.min_window_rows": "0"}, r"min_window_rows: 0 rows; expected at least 1"),
    "rows of no signal": (
        {"mlops.min_window_rows.data_drfit": "10"},
        r"min_window_rows\.data_drfit: no signal named 'data_drfit' \(signals: data_drift, ",
    ),
    "coverage above 1": ({"mlops.min_prediction_coverage": "1.5"}, r"min_prediction_coverage: 1\.5; expected a share"),
    "coverage nan": ({"mlops.min_prediction_coverage": "nan"}, r"min_prediction_coverage: nan; expected a share"),
    "share negative": ({"mlops.max_malformed_share": "-0.1"}, r"max_malformed_share: -0\.1; expected a share"),
    "share text": ({"mlops.max_malformed_share": "1%"}, r"max_malformed_share: '1%' is not a number"),
}


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_bad_settings_name_the_property(case: str) -> None:
    properties, message = BAD_SETTINGS[case]
    with pytest.raises(MonitorInputError, match=message) as error:
        parse_config(MONITOR_YML, document(**properties))
    assert str(error.value).startswith(f"{MONITOR_YML}: properties.mlops.")


# ---------------------------------------------------------------------------------------------------------------
# Minimum rows per signal


def test_a_one_row_window_breaches_nothing(reference, production, outputs, ground_truth) -> None:
    config = parse_config(MONITOR_YML, document())
    row = production.head(1)
    signals = evaluate_window(config, WindowData(reference, row, outputs.head(1), ground_truth))
    assert [s.status for s in signals] == [NOT_ENOUGH_DATA] * len(config.signals)
    assert not any(s.breached for s in signals)
    drift = next(s for s in signals if s.name == "data_drift")
    assert drift.reason == "1 row(s) in the window < minimum 30 (properties.mlops.min_window_rows)"
    performance = next(s for s in signals if s.name == "model_performance")
    assert "1 of 1 prediction(s) joined to ground truth by patient_id" in performance.reason


def test_the_minimum_is_per_signal_and_inclusive(reference, production) -> None:
    config = parse_config(MONITOR_YML, document(**{"mlops.min_window_rows.data_quality": "31"}))
    window = WindowData(reference, production.head(30))
    assert run_signal(config.signals["data_drift"], config, window).status == "computed"
    quality = run_signal(config.signals["data_quality"], config, window)
    assert quality.status == NOT_ENOUGH_DATA and "30 row(s) in the window < minimum 31" in quality.reason


def test_a_feature_with_too_few_values_is_not_enough_data(reference, production) -> None:
    config = parse_config(MONITOR_YML, document())
    window = production.copy()
    window.loc[10:, "bmi"] = np.nan  # 10 values left: far off the reference by chance alone
    window.loc[:9, "bmi"] = 80.0
    result = run_signal(config.signals["data_drift"], config, WindowData(reference, window))
    bmi = result.feature("bmi")
    assert not bmi.breached and all(m.value is None for m in bmi.metrics)
    assert bmi.metrics[0].reason.startswith("not enough data: 10 non-null production values < minimum 30")
    assert result.feature("plasma_glucose").metrics[0].value is not None


# ---------------------------------------------------------------------------------------------------------------
# Prediction coverage and joins


def test_partial_predictions_are_not_enough_data_below_the_coverage(reference, production, outputs) -> None:
    config = parse_config(MONITOR_YML, document())
    signal = config.signals["prediction_drift"]
    result = run_signal(signal, config, WindowData(reference, production, outputs.head(200)))
    assert result.status == NOT_ENOUGH_DATA and not result.breached
    assert result.reason == (
        "predictions for 200 of 2000 input rows (10%, matched by patient_id) < minimum coverage 90% "
        "(properties.mlops.min_prediction_coverage)"
    )
    result = run_signal(signal, config, WindowData(reference, production, outputs.head(1900)))
    assert result.status == "computed"
    assert "predictions for 1900 of 2000 input rows (95%, matched by patient_id)" in result.notes


def test_predictions_of_another_window_are_refused(reference, production, outputs) -> None:
    config = parse_config(MONITOR_YML, document())
    elsewhere = outputs.assign(patient_id=outputs["patient_id"] + 10**6)
    with pytest.raises(MonitorInputError, match=r"none of the 2000 predictions is for one of the window's 2000 input"):
        run_signal(config.signals["prediction_drift"], config, WindowData(reference, production, elsewhere))


def test_ids_of_different_types_join_as_text(reference, production, outputs, ground_truth) -> None:
    assert id_keys(pd.Series([7, 7.0, "7", None], dtype=object)).tolist() == ["7", "7", "7", pd.NA]
    assert id_keys(pd.Series([7.0, np.nan])).tolist() == ["7", pd.NA]
    config = parse_config(MONITOR_YML, document())
    as_text = outputs.head(300).assign(patient_id=outputs["patient_id"].head(300).astype(str))
    truth = ground_truth.assign(patient_id=ground_truth["patient_id"] * 1.0)  # 200000.0
    data = WindowData(reference, production.head(300), as_text, truth)
    performance = run_signal(config.signals["model_performance"], config, data)
    assert performance.feature("prediction").metric("accuracy").value == 1.0
    assert "300 of 300 prediction(s) joined to ground truth by patient_id" in performance.feature("prediction").notes


# ---------------------------------------------------------------------------------------------------------------
# Values of any type


def test_values_that_are_not_scalars_are_found() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "id": [1, {"a": [1]}], "c": [1, "x"]})
    assert first_non_scalar(frame) == ("id", 1, "dict")
    assert first_non_scalar(frame.drop(columns="id")) is None


def test_a_numeric_feature_holding_text_is_measured_not_fatal(reference, production, outputs) -> None:
    config = parse_config(MONITOR_YML, document())
    window = production.head(300).astype({"bmi": object})
    window.loc[0, "bmi"], window.loc[1, "bmi"] = "abc", True
    data = WindowData(reference, window, outputs.head(300))
    quality = run_signal(config.signals["data_quality"], config, data).feature("bmi")
    assert quality.details["type_errors"] == 2 and quality.metric("data_type_error_rate").breached
    drift = run_signal(config.signals["data_drift"], config, data).feature("bmi")
    assert drift.production_rows == window["bmi"].notna().sum() - 2  # the two dropped with the nulls
    # feature_attribution_drift on such a column: tests/negative/test_monitor_bad_inputs.py ("text in a numeric ...")


# ---------------------------------------------------------------------------------------------------------------
# The retrain rule and the result


def test_windows_without_an_evaluated_retrain_signal_do_not_count() -> None:
    signals = ["data_drift", "model_performance"]
    breached = {"breached_signals": {"data_drift": ["bmi"]}, "evaluated_signals": ["data_drift"]}
    thin = {"breached_signals": {}, "evaluated_signals": ["data_quality"]}
    older = {"breached_signals": {}}  # written before evaluated_signals existed: counts
    assert counts(breached, signals) and not counts(thin, signals) and counts(older, signals)
    assert retrain_flags([breached, thin, older, thin, breached], signals) == [True, False, True]


def test_the_summary_says_not_enough_data(reference, production) -> None:
    from datetime import UTC, datetime

    config = parse_config(MONITOR_YML, document())
    signals = evaluate_window(config, WindowData(reference, production.head(3)))
    result = MonitorResult(config.name, "w", datetime(2026, 1, 1, tzinfo=UTC), signals)
    summary = result.summary()
    assert summary.splitlines()[0].endswith(": ok (3 signal(s) with not enough data)")
    assert "data_quality                 data_quality              not enough data: 3 row(s) in the window" in summary
    assert result.to_dict()["not_enough_data"] == ["data_drift", "data_drift_tests", "data_quality"]


def test_importances_of_the_same_data_are_computed_once(monkeypatch: pytest.MonkeyPatch, reference) -> None:
    calls = []  # each computation answers differently: an answer seen twice came from the cache

    def compute(features, target, task, seed):
        calls.append(1)
        return {"bmi": float(len(calls))}, None

    monkeypatch.setattr(attribution, "_feature_importance", compute)
    monkeypatch.setattr(attribution, "_importances", type(attribution._importances)())
    features, target = reference[["bmi", "age", "sex"]], reference["diabetic"]
    first, _ = attribution.feature_importance(features, target, "classification")
    again, _ = attribution.feature_importance(features.copy(), target.copy(), "classification")
    assert again == first == {"bmi": 1.0}
    assert attribution.feature_importance(features.head(-1), target.head(-1), "classification")[0] == {"bmi": 2.0}
    mixed = features.astype({"sex": object})
    mixed.loc[0, "sex"] = 1  # a column of mixed types: pandas hashes 1 and "1" alike, so it is never cached
    assert attribution.feature_importance(mixed, target, "classification")[0] == {"bmi": 3.0}
    assert attribution.feature_importance(mixed, target, "classification")[0] == {"bmi": 4.0}
