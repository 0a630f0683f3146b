"""The local monitor on bad input: missing columns, an empty window, broken copies of monitoring/monitor.yml.

Every case must end in a MonitorInputError whose message names the column, file or field — never a crash, never a
NaN passed off as a result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.errors import MlopsError
from mlops.monitoring import MonitorInputError, load_config, run_monitor

REPO = Path(__file__).resolve().parents[2]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"
SIGNALS = ("create_monitor", "monitoring_signals")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REPO / "data" / "diabetes-training" / "diabetes.csv")


@pytest.fixture(scope="module")
def production() -> pd.DataFrame:
    return pd.read_csv(REPO / "data" / "production" / "baseline.csv")


def run(tmp_path: Path, reference: pd.DataFrame, production: pd.DataFrame, config: Path = MONITOR_YML, **kwargs):
    return run_monitor(
        config, reference, production, out_dir=tmp_path / "out", history_dir=tmp_path, window_name="w", **kwargs
    )


def test_monitor_input_error_is_a_user_error() -> None:
    assert issubclass(MonitorInputError, MlopsError)  # the CLI prints it on one line and exits non-zero


# ---------------------------------------------------------------------------------------------------------------
# Data


def test_feature_missing_from_production_is_named(tmp_path: Path, reference, production) -> None:
    with pytest.raises(MonitorInputError, match=r"feature bmi missing from the production data"):
        run(tmp_path, reference, production.drop(columns=["bmi"]))


def test_features_missing_from_reference_are_named(tmp_path: Path, reference, production) -> None:
    broken = reference.drop(columns=["sex", "age"])
    with pytest.raises(MonitorInputError, match=r"features age, sex missing from the reference data") as error:
        run(tmp_path, broken, production)
    assert "signal 'data_drift'" in str(error.value)


def test_empty_production_window(tmp_path: Path, reference, production) -> None:
    with pytest.raises(MonitorInputError, match=r"production data for window 'w' has no rows"):
        run(tmp_path, reference, production.iloc[:0])


def test_empty_reference(tmp_path: Path, reference, production) -> None:
    with pytest.raises(MonitorInputError, match=r"reference data for window 'w' has no rows"):
        run(tmp_path, reference.iloc[:0], production)


def test_not_a_dataframe(tmp_path: Path, reference) -> None:
    with pytest.raises(MonitorInputError, match=r"expected a pandas DataFrame, got list"):
        run(tmp_path, reference, [1, 2, 3])


def test_predictions_without_the_prediction_column(tmp_path: Path, reference, production) -> None:
    predictions = pd.DataFrame({"patient_id": production["patient_id"], "label": 0})
    with pytest.raises(MonitorInputError, match=r"column prediction missing from the predictions") as error:
        run(tmp_path, reference, production, predictions=predictions)
    assert "prediction_drift" in str(error.value)


def test_ground_truth_that_matches_no_prediction_is_not_enough_data(tmp_path: Path, reference, production) -> None:
    # Labels arrive late: a window none of whose predictions is labelled yet cannot be scored, and is said so.
    predictions = pd.DataFrame({"patient_id": production["patient_id"], "prediction": 0, "probability": 0.1})
    ground_truth = pd.DataFrame({"patient_id": [1, 2], "diabetic": [0, 1]})
    result = run(tmp_path, reference, production, predictions=predictions, ground_truth=ground_truth)
    performance = result.signal("model_performance")
    assert performance.status == "not enough data" and not performance.breached
    assert "0 of 2000 prediction(s) joined to ground truth by patient_id (2 labels) < minimum 30" in performance.reason


def test_nothing_is_written_when_the_input_is_bad(tmp_path: Path, reference, production) -> None:
    with pytest.raises(MonitorInputError):
        run(tmp_path, reference, production.iloc[:0])
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "monitor_history.jsonl").exists()


# ---------------------------------------------------------------------------------------------------------------
# Broken copies of monitoring/monitor.yml


def edit(change: Callable[[dict], None]) -> Callable[[Path], Path]:
    def apply(tmp_path: Path) -> Path:
        document = yaml.safe_load(MONITOR_YML.read_text())
        change(document)
        path = tmp_path / "monitor.yml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return apply


def signal(name: str, **changes) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["create_monitor"]["monitoring_signals"][name].update(changes)

    return change


def without_type(document: dict) -> None:
    del document["create_monitor"]["monitoring_signals"]["data_quality"]["type"]


def retrain(m: str, n: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["properties"].update({"mlops.retrain.min_breached_windows": m, "mlops.retrain.last_windows": n})

    return change


def write(text: str) -> Callable[[Path], Path]:
    def apply(tmp_path: Path) -> Path:
        path = tmp_path / "monitor.yml"
        path.write_text(text)
        return path

    return apply


CASES = {
    "unknown signal type": (
        edit(signal("data_drift", type="data_drfit")),
        r"create_monitor\.monitoring_signals\.data_drift\.type: unknown signal type 'data_drfit'",
    ),
    "signal without a type": (edit(without_type), r"monitoring_signals\.data_quality\.type: missing"),
    "unknown threshold the SDK rejects": (
        edit(signal("data_drift", metric_thresholds={"numerical": {"wasserstein": 0.1}})),
        r"load_schedule rejected it: create_monitor\.monitoring_signals\.data_drift\.metric_thresholds\.numerical"
        r"\.wasserstein: Unknown field",
    ),
    "runtime the SDK refuses to send": (
        edit(lambda d: d["create_monitor"]["compute"].update(runtime_version="3.1")),
        r"cannot build the request for it: Compute runtime version must be one of",
    ),
    "feature type override that is not a type": (
        edit(signal("data_drift", feature_type_override={"age": "ordinal"})),
        r"data_drift\.feature_type_override\.age: 'ordinal' is not numerical or categorical",
    ),
    "retrain M greater than N": (edit(retrain("4", "3")), r"properties\.mlops\.retrain\.min_breached_windows"),
    "retrain M not a number": (edit(retrain("two", "3")), r"properties\.mlops\.retrain\.min_breached_windows: 'two'"),
    "retrain signal that does not exist": (
        edit(lambda d: d["properties"].update({"mlops.retrain.signals": "data_drift,drift"})),
        r"properties\.mlops\.retrain\.signals: no signal named drift",
    ),
    "no signals": (
        edit(lambda d: d["create_monitor"].update(monitoring_signals={})),
        r"create_monitor\.monitoring_signals: no signal the local monitor can run",
    ),
    "signals not a mapping": (
        edit(lambda d: d["create_monitor"].update(monitoring_signals=["data_drift"])),
        r"create_monitor\.monitoring_signals: missing or not a mapping",
    ),
    "not YAML": (write("name: [unclosed\n"), r"not valid YAML"),
    "not a monitor schedule": (
        edit(lambda d: d.update({"$schema": "https://azuremlschemas.azureedge.net/latest/data.schema.json"})),
        r"monitor\.yml: ",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_monitor_yaml_is_named(case: str, tmp_path: Path) -> None:
    make, message = CASES[case]
    path = make(tmp_path)
    with pytest.raises(MonitorInputError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_missing_monitor_yaml(tmp_path: Path) -> None:
    with pytest.raises(MonitorInputError, match=r"file not found"):
        load_config(tmp_path / "nope.yml")
