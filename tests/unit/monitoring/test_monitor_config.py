"""monitoring/monitor.yml loads with azure-ai-ml offline, and the local monitor reads it as the SDK sends it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from mlops.monitoring.config import load_config

REPO = Path(__file__).resolve().parents[3]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"


def test_monitor_yaml_loads_with_load_schedule() -> None:
    from azure.ai.ml.entities._load_functions import load_schedule

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schedule = load_schedule(str(MONITOR_YML))
    signals = schedule.create_monitor.monitoring_signals
    types = {str(signal.type).rsplit(".", 1)[-1].lower() for signal in signals.values()}
    assert {"data_drift", "prediction_drift", "data_quality", "feature_attribution_drift", "model_performance"} <= types
    assert schedule.create_monitor.monitoring_target.endpoint_deployment_id == "azureml:diabetes-endpoint:blue"
    assert schedule.create_monitor.alert_notification.emails
    # what is sent to Azure: one drift metric per feature type, with the thresholds the local monitor uses
    rest = schedule._to_rest_object().as_dict()["properties"]["action"]["monitorDefinition"]["signals"]
    sent = {(t["dataType"], t["metric"], t["threshold"]["value"]) for t in rest["data_drift"]["metricThresholds"]}
    assert sent == {("Numerical", "normalizedWassersteinDistance", 0.1), ("Categorical", "jensenShannonDistance", 0.1)}


def test_local_config_matches_the_yaml() -> None:
    config = load_config(MONITOR_YML)
    assert config.ml_task == "classification"
    assert config.warnings == ()
    drift = config.signals["data_drift"]
    assert drift.alert_enabled
    assert drift.numerical == {"normalized_wasserstein_distance": 0.1}
    assert drift.categorical == {"jensen_shannon_distance": 0.1}
    # every feature typed as the model definition types it; integer quantities are the ones this changes
    assert set(drift.feature_type_override) == set(drift.features)
    assert drift.feature_type_override["age"] == drift.feature_type_override["pregnancies"] == "numerical"
    assert "patient_id" not in drift.features
    tests = config.signals["data_drift_tests"]
    assert not tests.alert_enabled
    assert tests.numerical == {"two_sample_kolmogorov_smirnov_test": 0.01}
    assert tests.categorical == {"pearsons_chi_squared_test": 0.01}
    assert config.signals["feature_attribution_drift"].thresholds == {"normalized_discounted_cumulative_gain": 0.9}
    performance = config.signals["model_performance"]
    assert set(performance.thresholds) == {"accuracy", "precision", "recall"}
    assert performance.reference_column("actual") == "diabetic"
    assert performance.column("correlation_id") == "patient_id"
    assert config.retrain.min_breached == 2 and config.retrain.last_runs == 3
    assert "data_quality" not in config.retrain.signals


def test_several_drift_metrics_per_type_keep_only_the_one_azure_ai_ml_sends(tmp_path: Path) -> None:
    document = yaml.safe_load(MONITOR_YML.read_text())
    document["create_monitor"]["monitoring_signals"]["data_drift"]["metric_thresholds"] = {
        "numerical": {"two_sample_kolmogorov_smirnov_test": 0.01, "normalized_wasserstein_distance": 0.2},
        "categorical": {"pearsons_chi_squared_test": 0.05, "jensen_shannon_distance": 0.0},
    }
    path = tmp_path / "monitor.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    config = load_config(path)
    drift = config.signals["data_drift"]
    assert drift.numerical == {"normalized_wasserstein_distance": 0.2}  # first in the SDK's order
    assert drift.categorical == {"pearsons_chi_squared_test": 0.05}  # a 0 threshold is not sent
    assert any("two_sample_kolmogorov_smirnov_test ignored" in w for w in config.warnings)
    assert any("jensen_shannon_distance ignored" in w and "0 is not sent" in w for w in config.warnings)


@pytest.mark.parametrize("signal", ["data_drift", "data_quality"])
def test_omitted_thresholds_use_the_sdk_defaults(tmp_path: Path, signal: str) -> None:
    document = yaml.safe_load(MONITOR_YML.read_text())
    del document["create_monitor"]["monitoring_signals"][signal]["metric_thresholds"]
    path = tmp_path / "monitor.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    parsed = load_config(path).signals[signal]
    if signal == "data_drift":
        assert parsed.numerical == {"normalized_wasserstein_distance": 0.1}
        assert parsed.categorical == {"jensen_shannon_distance": 0.1}
    else:
        assert set(parsed.numerical.values()) == {0.0}
