"""The registry (mlops.monitoring.kinds) is the one home of a signal type: its entry alone says how the type is read,
computed, alerted on, fed and drawn. A new type registered there is parsed, run and rendered by the rest unchanged."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.monitoring import reference_assets
from mlops.monitoring.config import parse_config
from mlops.monitoring.kinds import GROUND_TRUTH, REFERENCE, SIGNAL_KINDS, SignalKind
from mlops.monitoring.monitor import evaluate_window, run_signal
from mlops.monitoring.report import render_html
from mlops.monitoring.results import BELOW, DISTRIBUTIONS, FeatureResult, MetricResult, MonitorResult, SignalResult
from mlops.monitoring.settings import MonitorConfig, SignalBlock, SignalConfig
from mlops.monitoring.signals import WindowData

REPO = Path(__file__).resolve().parents[3]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"
PACKAGE = REPO / "src" / "mlops" / "monitoring"


def monitor_document() -> dict:
    return yaml.safe_load(MONITOR_YML.read_text())


def threshold_metrics(thresholds: dict) -> set[str]:
    """Metric names of a metric_thresholds block: flat, or nested per feature type / ml_task."""
    names: set[str] = set()
    for key, value in thresholds.items():
        names |= set(value) if isinstance(value, dict) else {key}
    return names


def test_every_signal_of_monitor_yml_has_a_complete_entry() -> None:
    for name, raw in monitor_document()["create_monitor"]["monitoring_signals"].items():
        kind = SIGNAL_KINDS[raw["type"]]
        missing = threshold_metrics(raw.get("metric_thresholds") or {}) - set(kind.directions)
        assert not missing, f"{name}: no alert direction for {missing}"
        assert kind.plot in (DISTRIBUTIONS, None), name
        assert kind.reference_role in (REFERENCE, GROUND_TRUTH), name


def test_a_metric_alerts_the_same_way_in_every_kind() -> None:
    directions: dict[str, str] = {}
    for kind in SIGNAL_KINDS.values():
        for metric, direction in kind.directions.items():
            assert directions.setdefault(metric, direction) == direction, metric


def test_signal_types_are_named_only_in_the_registry() -> None:
    types = "|".join(SIGNAL_KINDS)
    literal = re.compile(rf"""["']({types})["']""")
    for file in sorted(PACKAGE.glob("*.py")):
        if file.name != "kinds.py":
            assert not literal.search(file.read_text()), f"{file.name} names a signal type; look it up in kinds.py"


def test_reference_assets_follow_the_reference_role(tmp_path: Path) -> None:
    document = monitor_document()
    config = parse_config(MONITOR_YML, document)
    assert reference_assets(config) == ("azureml:diabetes-training:1", "azureml:diabetes-production-ground-truth:1")
    del document["create_monitor"]["monitoring_signals"]["model_performance"]
    document["properties"]["mlops.retrain.signals"] = "data_drift"
    assert reference_assets(parse_config(MONITOR_YML, document)) == ("azureml:diabetes-training:1", None)


def test_a_metric_without_a_direction_in_its_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(MONITOR_YML, monitor_document())
    kind = SIGNAL_KINDS["data_quality"]
    monkeypatch.setitem(SIGNAL_KINDS, "data_quality", SignalKind(kind.name, kind.parse, kind.compute, {}))
    reference = pd.read_csv(REPO / "data" / "diabetes-training" / "diabetes.csv")
    with pytest.raises(KeyError, match="null_value_rate"):
        run_signal(config.signals["data_quality"], config, WindowData(reference, reference))


# ---------------------------------------------------------------------------------------------------------------
# A new signal type, registered in the test only


def parse_row_count(block: SignalBlock) -> SignalConfig:
    return block.signal(thresholds={"row_ratio": float(block.thresholds["row_ratio"])})


def row_count(signal: SignalConfig, config: MonitorConfig, data: WindowData, result: SignalResult) -> None:
    """Production rows per reference row: a window that collected far too little data."""
    ratio = len(data.production) / len(data.reference)
    metric = MetricResult("row_ratio", ratio, signal.thresholds["row_ratio"])
    result.features.append(FeatureResult("(rows)", None, [metric], len(data.reference), len(data.production)))


def test_a_new_signal_kind_is_parsed_computed_and_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    kind = SignalKind("row_count", parse_row_count, row_count, {"row_ratio": BELOW})
    monkeypatch.setitem(SIGNAL_KINDS, kind.name, kind)
    document = monitor_document()
    document["create_monitor"]["monitoring_signals"] = {
        "enough_rows": {
            "type": "row_count",
            "production_data": {"input_data": {"path": "azureml:diabetes-endpoint-blue-model_inputs:1"}},
            "reference_data": {"input_data": {"path": "azureml:diabetes-training:1"}},
            "alert_enabled": True,
            "metric_thresholds": {"row_ratio": 0.5},
        }
    }
    document["properties"]["mlops.retrain.signals"] = "enough_rows"

    config = parse_config(MONITOR_YML, document)
    assert config.signals["enough_rows"].thresholds == {"row_ratio": 0.5}
    assert reference_assets(config) == ("azureml:diabetes-training:1", None)

    reference = pd.DataFrame({"x": range(100)})
    signals = evaluate_window(config, WindowData(reference, reference.head(10)))
    result = MonitorResult(config.name, "w", datetime(2025, 1, 1, tzinfo=UTC), signals)
    metric = result.to_dict()["signals"][0]["features"][0]["metrics"][0]
    assert metric == {
        "metric": "row_ratio",
        "value": 0.1,
        "threshold": 0.5,
        "direction": BELOW,
        "breached": True,
        "reason": None,
    }
    assert result.breached_signals == {"enough_rows": ["(rows)"]}
    assert "enough_rows                  row_count                 BREACH (rows): row_ratio 0.1 < 0.5" in (
        result.summary()
    )
    html = render_html(result)
    assert "<h2>enough_rows <small>(row_count)</small></h2>" in html
    assert '<td>row_ratio</td><td>0.1</td><td>0.5</td><td>value &lt; threshold</td><td class="bad">breach</td>' in html
