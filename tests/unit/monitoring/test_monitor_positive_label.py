"""model_performance's precision and recall: of the model's positive class for a binary model (monitor.yml's
properties.mlops.positive_label, else the class that sorts last, as train_model decides), macro-averaged for a
multiclass one — never a hard-coded 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import precision_score, recall_score

from mlops.monitoring.config import load_config
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.monitor import run_signal
from mlops.monitoring.signals import WindowData, classification_scores

REPO = Path(__file__).resolve().parents[3]
MONITOR_YML = REPO / "monitoring" / "monitor.yml"

RNG = np.random.default_rng(3)
TRUTH = RNG.choice(["benign", "malignant"], 400, p=[0.6, 0.4])
PREDICTED = np.where(RNG.random(400) < 0.8, TRUTH, RNG.choice(["benign", "malignant"], 400))


def with_properties(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(MONITOR_YML.read_text())
    document.setdefault("properties", {}).update(changes.pop("properties", {}))
    if "ml_task" in changes:
        document["create_monitor"]["monitoring_target"]["ml_task"] = changes["ml_task"]
    path = tmp_path / "monitor.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize("positive", ["benign", "malignant"])
def test_binary_string_labels_score_the_configured_positive_class(positive: str) -> None:
    values, reasons, how = classification_scores(TRUTH, PREDICTED, positive)
    assert reasons == {} and f"positive class {positive}" in how
    assert values["precision"] == pytest.approx(precision_score(TRUTH, PREDICTED, pos_label=positive))
    assert values["recall"] == pytest.approx(recall_score(TRUTH, PREDICTED, pos_label=positive))


def test_without_a_configured_label_the_class_that_sorts_last_is_positive() -> None:
    values, _, how = classification_scores(TRUTH, PREDICTED)
    assert "malignant" in how and "sorts last" in how
    assert values["precision"] == pytest.approx(precision_score(TRUTH, PREDICTED, pos_label="malignant"))
    # numbers sort by value, as scikit-learn sorts classes: 10 after 2 (as text "2" would sort after "10")
    values, _, how = classification_scores(np.array([2, 10, 10, 2]), np.array([10, 10, 2, 2]))
    assert "sorts last, 10" in how


def test_integer_labels_match_a_text_positive_label() -> None:
    truth, predicted = np.array([0, 1, 1, 0, 1]), np.array([0.0, 1.0, 0.0, 0.0, 1.0])  # floats from a JSON column
    values, _, _ = classification_scores(truth, predicted, "0")
    assert values["precision"] == pytest.approx(precision_score(truth, predicted.astype(int), pos_label=0))


def test_multiclass_is_macro_averaged() -> None:
    truth = RNG.choice(["setosa", "versicolor", "virginica"], 300)
    predicted = np.where(RNG.random(300) < 0.7, truth, RNG.choice(["setosa", "versicolor", "virginica"], 300))
    values, _, how = classification_scores(truth, predicted)
    assert "macro-averaged over 3 classes" in how
    assert values["precision"] == pytest.approx(precision_score(truth, predicted, average="macro"))
    assert values["recall"] == pytest.approx(recall_score(truth, predicted, average="macro"))


def test_the_config_reads_the_positive_label_and_the_signal_uses_it(tmp_path: Path) -> None:
    assert load_config(MONITOR_YML).positive_label in (None, "1")
    config = load_config(with_properties(tmp_path, properties={"mlops.positive_label": "benign"}))
    assert config.positive_label == "benign"
    ids = np.arange(len(TRUTH))
    data = WindowData(
        reference=pd.DataFrame({"x": [1.0]}),
        production=pd.DataFrame({"x": [1.0]}),
        predictions=pd.DataFrame({"patient_id": ids, "prediction": PREDICTED}),
        ground_truth=pd.DataFrame({"patient_id": ids, "diabetic": TRUTH}),
    )
    result = run_signal(config.signals["model_performance"], config, data)
    (feature,) = result.features
    assert feature.metric("precision").value == pytest.approx(precision_score(TRUTH, PREDICTED, pos_label="benign"))
    assert any("positive class benign" in note for note in feature.notes)


def test_a_positive_label_for_a_regression_monitor_is_refused(tmp_path: Path) -> None:
    path = with_properties(tmp_path, properties={"mlops.positive_label": "1"}, ml_task="regression")
    with pytest.raises(MonitorInputError, match=r"mlops\.positive_label: '1' is set but monitoring_target\.ml_task"):
        load_config(path)
