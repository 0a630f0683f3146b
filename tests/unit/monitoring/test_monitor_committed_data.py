"""The monitor on the committed sample data: the baseline batch raises no drift, the drifted batch breaches on exactly
the features data/production/drift.json lists; predictions come from a quickly fitted model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops.monitoring import MonitorResult, run_monitor
from mlops.monitoring.attribution import ndcg
from mlops.monitoring.history import read_history
from mlops.monitoring.signals import classification_scores

REPO = Path(__file__).resolve().parents[3]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"
DATA = REPO / "data"
NUMERIC = ["pregnancies", "plasma_glucose", "diastolic_bp", "triceps_thickness", "serum_insulin", "bmi"]
NUMERIC += ["diabetes_pedigree", "age"]
CATEGORICAL = ["sex", "physical_activity", "smoking_status"]
DRIFT_SIGNALS = ("data_drift", "data_drift_tests")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DATA / "production" / "drift.json").read_text())


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "diabetes-training" / "diabetes.csv")


@pytest.fixture(scope="module")
def ground_truth(manifest: dict) -> pd.DataFrame:
    return pd.read_csv(DATA / "production" / manifest["ground_truth_file"])


@pytest.fixture(scope="module")
def model(reference: pd.DataFrame) -> Pipeline:
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
                CATEGORICAL,
            ),
        ]
    )
    return make_pipeline(prep, LogisticRegression(max_iter=1000)).fit(
        reference[NUMERIC + CATEGORICAL], reference["diabetic"]
    )


def predictions_of(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": frame["patient_id"],
            "prediction": model.predict(frame),
            "probability": model.predict_proba(frame)[:, 1],
        }
    )


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
    manifest: dict,
    reference: pd.DataFrame,
    ground_truth: pd.DataFrame,
    model: Pipeline,
) -> dict[str, MonitorResult]:
    """baseline, then drifted (with predictions and ground truth), then drifted again (inputs only)."""
    root = tmp_path_factory.mktemp("monitor")
    results = {}
    for step, (name, file, with_outputs) in enumerate(
        [
            ("baseline", manifest["baseline_file"], True),
            ("drifted", manifest["drifted_file"], True),
            ("drifted-again", manifest["drifted_file"], False),
        ]
    ):
        production = pd.read_csv(DATA / "production" / file)
        results[name] = run_monitor(
            MONITOR_YML,
            reference,
            production,
            predictions=predictions_of(model, production) if with_outputs else None,
            ground_truth=ground_truth if with_outputs else None,
            out_dir=root / name,
            history_dir=root,
            window_name=name,
            timestamp=datetime(2026, 11, 20 + step, 3, 15, tzinfo=UTC),
        )
    return results


def test_baseline_batch_raises_no_drift(runs: dict[str, MonitorResult]) -> None:
    result = runs["baseline"]
    for name in DRIFT_SIGNALS:
        assert result.signal(name).breached_features == [], name
    assert not result.breached, result.summary()
    assert not result.retrain.retrain


def test_drifted_batch_breaches_exactly_the_manifest_features(runs: dict[str, MonitorResult], manifest: dict) -> None:
    drifted = set(manifest["drifted_features"])
    result = runs["drifted"]
    for name in DRIFT_SIGNALS:
        assert set(result.signal(name).breached_features) == drifted, name
    assert result.breached_signals["data_drift"] and set(result.breached_signals["data_drift"]) == drifted
    assert "data_drift_tests" not in result.breached_signals  # reported, alerts off
    assert set(manifest["unchanged_features"]).isdisjoint(result.signal("data_drift").breached_features)


def test_prediction_drift_and_performance(runs: dict[str, MonitorResult]) -> None:
    assert not runs["baseline"].signal("prediction_drift").breached
    prediction = runs["drifted"].signal("prediction_drift").feature("prediction")
    assert prediction.breached and prediction.column_type == "categorical"
    for run in ("baseline", "drifted"):
        performance = runs[run].signal("model_performance")
        assert performance.status == "computed" and not performance.breached
        assert performance.features[0].production_rows == 2000
        assert 0.7 < performance.features[0].metric("accuracy").value < 0.85
    attribution = runs["baseline"].signal("feature_attribution_drift").features[0]
    value = attribution.metric("normalized_discounted_cumulative_gain").value
    assert value is not None and 0.9 < value <= 1.0
    assert set(attribution.details["reference_importance"]) == set(NUMERIC + CATEGORICAL)


def test_data_quality_is_clean_on_both_batches(runs: dict[str, MonitorResult]) -> None:
    for run in ("baseline", "drifted"):
        assert not runs[run].signal("data_quality").breached


def test_signals_needing_outputs_are_skipped_without_them(runs: dict[str, MonitorResult]) -> None:
    result = runs["drifted-again"]
    for name in ("prediction_drift", "feature_attribution_drift", "model_performance"):
        assert result.signal(name).status == "skipped"
        assert "no predictions" in (result.signal(name).reason or "")


def test_history_and_retrain_decision(runs: dict[str, MonitorResult]) -> None:
    assert not runs["drifted"].retrain.retrain  # 1 of 2 windows
    assert runs["drifted-again"].retrain.retrain  # 2 of the last 3, latest included
    entries = read_history(runs["baseline"].history_file.parent, "diabetes_classifier_monitoring")
    assert [e["window"] for e in entries] == ["baseline", "drifted", "drifted-again"]
    assert entries[1]["breached_signals"]["data_drift"]
    assert "Retrain: YES" in runs["drifted-again"].summary()


def test_reports_hold_every_metric_and_plots_of_the_drifted_features(
    runs: dict[str, MonitorResult], manifest: dict
) -> None:
    result = runs["drifted"]
    report = json.loads(result.report_json.read_text())
    assert report["breached"] is True and report["window"] == "drifted"
    drift = next(s for s in report["signals"] if s["name"] == "data_drift")
    glucose = next(f for f in drift["features"] if f["feature"] == "plasma_glucose")
    metrics = {m["metric"]: m for m in glucose["metrics"]}
    assert set(metrics) == {
        "jensen_shannon_distance",
        "population_stability_index",
        "normalized_wasserstein_distance",
        "two_sample_kolmogorov_smirnov_test",
    }
    wasserstein = metrics["normalized_wasserstein_distance"]
    assert wasserstein["breached"] and wasserstein["threshold"] == 0.1 and wasserstein["direction"] == "above"
    assert metrics["jensen_shannon_distance"]["threshold"] is None  # computed and reported, not sent to Azure
    page = result.report_html.read_text()
    assert page.count("data:image/png;base64,") == len(manifest["drifted_features"]) + 1  # + the predicted class
    for feature in manifest["drifted_features"]:
        assert f"alt='{feature}'" in page
    summary = result.summary()
    assert len(summary.splitlines()) <= 20
    assert "BREACH" in summary and "plasma_glucose" in summary


def test_all_null_production_column(tmp_path: Path, reference: pd.DataFrame, manifest: dict) -> None:
    production = pd.read_csv(DATA / "production" / manifest["baseline_file"])
    production["bmi"] = np.nan
    result = run_monitor(
        MONITOR_YML, reference, production, out_dir=tmp_path, history_dir=tmp_path, window_name="all-null"
    )
    bmi = result.signal("data_drift").feature("bmi")
    assert not bmi.breached
    assert all(m.value is None and "no non-null production values" in m.reason for m in bmi.metrics)
    quality = result.signal("data_quality").feature("bmi").metric("null_value_rate")
    assert quality.value == 1.0 and quality.breached
    assert result.breached_signals == {"data_quality": ["bmi"]}
    report = json.loads(result.report_json.read_text())
    drift = next(s for s in report["signals"] if s["name"] == "data_drift")
    values = next(f for f in drift["features"] if f["feature"] == "bmi")["metrics"]
    assert all(m["value"] is None and m["reason"] for m in values)


def test_unseen_category_in_a_window(tmp_path: Path, reference: pd.DataFrame, manifest: dict) -> None:
    production = pd.read_csv(DATA / "production" / manifest["baseline_file"])
    production.loc[:9, "smoking_status"] = "vaping"
    result = run_monitor(
        MONITOR_YML, reference, production, out_dir=tmp_path, history_dir=tmp_path, window_name="new-category"
    )
    smoking = result.signal("data_drift_tests").feature("smoking_status")
    assert smoking.details["unseen_categories"] == ["vaping"]
    assert 0.0 <= smoking.metric("pearsons_chi_squared_test").value <= 1.0
    out_of_bounds = result.signal("data_quality").feature("smoking_status").metric("out_of_bounds_rate")
    assert out_of_bounds.value == pytest.approx(10 / 2000) and out_of_bounds.breached


def test_ndcg_and_classification_scores_match_sklearn() -> None:
    from sklearn.metrics import accuracy_score, ndcg_score, precision_score, recall_score

    baseline = {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.0}
    assert ndcg(baseline, dict(baseline))[0] == pytest.approx(1.0)
    reversed_ranking = {"a": 0.0, "b": 0.1, "c": 0.3, "d": 0.5}
    value, _ = ndcg(baseline, reversed_ranking)
    assert value == pytest.approx(ndcg_score([[0.5, 0.3, 0.1, 0.0]], [[0.0, 0.1, 0.3, 0.5]]))
    assert value < 0.9
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    values, reasons, _ = classification_scores(y_true, y_pred)
    assert values["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert values["precision"] == pytest.approx(precision_score(y_true, y_pred))
    assert values["recall"] == pytest.approx(recall_score(y_true, y_pred))
    y3_true, y3_pred = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    values, _, how = classification_scores(y3_true, y3_pred)
    assert "macro" in how
    assert values["precision"] == pytest.approx(precision_score(y3_true, y3_pred, average="macro"))
    assert values["recall"] == pytest.approx(recall_score(y3_true, y3_pred, average="macro"))
    values, reasons, _ = classification_scores(np.array([1, 0, 1]), np.array([0, 0, 0]))
    assert values["precision"] is None and "no predicted positives" in reasons["precision"]
    assert values["recall"] == 0.0


def test_top_n_features_by_importance(reference: pd.DataFrame, manifest: dict) -> None:
    from dataclasses import replace

    from mlops.monitoring.config import load_config
    from mlops.monitoring.monitor import run_signal
    from mlops.monitoring.signals import WindowData

    config = load_config(MONITOR_YML)
    signal = replace(config.signals["data_drift"], features=None, top_n_features=3)
    production = pd.read_csv(DATA / "production" / manifest["drifted_file"])
    result = run_signal(signal, config, WindowData(reference, production))
    assert len(result.features) == 3
    assert "plasma_glucose" in [f.feature for f in result.features]  # the strongest cause of the label
    assert "patient_id" not in [f.feature for f in result.features]
    assert any("top 3 features" in note for note in result.notes)


def test_prediction_drift_against_the_models_outputs_on_the_reference(
    reference: pd.DataFrame, model: Pipeline, manifest: dict
) -> None:
    from mlops.monitoring.config import load_config
    from mlops.monitoring.monitor import run_signal
    from mlops.monitoring.signals import WindowData

    config = load_config(MONITOR_YML)
    signal = config.signals["prediction_drift"]
    reference_outputs = predictions_of(model, reference)
    for file, drifts in ((manifest["baseline_file"], False), (manifest["drifted_file"], True)):
        production = pd.read_csv(DATA / "production" / file)
        data = WindowData(reference, production, predictions_of(model, production), None, reference_outputs)
        result = run_signal(signal, config, data)
        assert [f.feature for f in result.features] == ["prediction", "probability"]
        assert result.feature("probability").column_type == "numerical"
        assert result.breached is drifts, file
