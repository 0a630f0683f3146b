"""The probability rule of endpoints/scoring_common.py, and the online and batch scoring scripts agreeing on it.

Both scripts are loaded from the repository the way their deployments load them and score the same rows of a small
binary and a small multiclass model saved as MLflow models under an Azure-like `azureml-models/<name>/<version>/`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scoring_scripts import post

ENDPOINTS = Path(__file__).resolve().parents[3] / "endpoints"
ROWS = 40


def load(relative: str, name: str) -> ModuleType:
    import azureml_inference_server_http.server  # noqa: F401  (provides azureml.contrib.services, as on Azure)

    spec = importlib.util.spec_from_file_location(name, ENDPOINTS / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scoring_common() -> ModuleType:
    sys.path.insert(0, str(ENDPOINTS))
    try:
        import scoring_common

        return scoring_common
    finally:
        sys.path.remove(str(ENDPOINTS))


def rows(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "record_id": np.arange(100, 100 + ROWS),
            "x1": rng.normal(0, 1, ROWS),
            "x2": rng.normal(0, 1, ROWS),
            "group": rng.choice(["a", "b"], ROWS).astype(object),
        }
    )


def fit(labels: np.ndarray):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = rows()[["x1", "x2", "group"]]
    preprocess = ColumnTransformer([("num", "passthrough", ["x1", "x2"]), ("cat", OneHotEncoder(), ["group"])])
    return Pipeline([("preprocess", preprocess), ("model", LogisticRegression())]).fit(features, labels), features


def labels(kind: str) -> np.ndarray:
    frame = rows()
    signal = frame["x1"] + 0.5 * frame["x2"]
    if kind == "binary":
        return (signal > 0).astype("int64").to_numpy()
    if kind == "binary-strings":
        return np.where(signal > 0, "yes", "no")
    return np.select([signal < -0.5, signal > 0.5], ["low", "high"], "mid")


# The positive label train_model records in the MLmodel metadata: "no" sorts first, so it is not the default.
POSITIVE = {"binary": None, "binary-strings": "no", "multiclass": None}


@pytest.fixture(scope="module", params=list(POSITIVE))
def deployed(request, tmp_path_factory) -> SimpleNamespace:
    """A model saved where Azure mounts it, with AZUREML_MODEL_DIR set and both scripts initialised."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    model, features = fit(labels(request.param))
    root = tmp_path_factory.mktemp(request.param)
    version_dir = root / "azureml-models" / f"toy-{request.param}" / "3"
    metadata = {"positive_label": POSITIVE[request.param]} if POSITIVE[request.param] else None
    mlflow.sklearn.save_model(
        model,
        str(version_dir / "model"),
        signature=infer_signature(features),
        metadata=metadata,
        pip_requirements=[],  # inferring them would start a process that loads the model (seconds)
    )
    data = root / "rows.csv"
    rows().to_csv(data, index=False)
    settings = {
        "AZUREML_MODEL_DIR": str(version_dir),
        "ID_COLUMN": "record_id",
        "MLOPS_COLLECT_DIR": str(root / "collected"),
        "MAX_ROWS_PER_REQUEST": "1000",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        online = load("online/score.py", f"online_score_{request.param}")
        batch = load("batch/score.py", f"batch_score_{request.param}")
        online.init()
        batch.init()
    return SimpleNamespace(kind=request.param, model=model, features=features, online=online, batch=batch, data=data)


def test_the_rule_for_binary_and_multiclass(scoring_common) -> None:
    proba = np.array([[0.9, 0.1], [0.3, 0.7]])
    binary = scoring_common.Scores(np.array([0, 1]), [0, 1], proba).columns()
    assert list(binary) == ["prediction", "probability"]
    assert binary["probability"].tolist() == [0.1, 0.7]  # the positive class (classes_[1]), even when not predicted

    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    multi = scoring_common.Scores(np.array(["b", "a"]), ["a", "b", "c"], proba).columns()
    assert list(multi) == ["prediction", "probability", "probability_a", "probability_b", "probability_c"]
    assert multi["probability"].tolist() == [0.5, 0.6]  # the predicted class
    assert multi["probability_c"].tolist() == [0.3, 0.3]

    regression = scoring_common.Scores(np.array([1.5, 2.5])).columns()
    assert list(regression) == ["prediction"]


def test_a_recorded_positive_label_picks_the_probability_column(scoring_common) -> None:
    proba = np.array([[0.9, 0.1], [0.3, 0.7]])
    scores = scoring_common.Scores(np.array(["no", "yes"]), ["no", "yes"], proba, positive=0)
    assert scores.positive_class == "no"
    assert scores.columns()["probability"].tolist() == [0.9, 0.3]
    assert scoring_common.positive_column([0, 1], "0") == 0  # matched by text, as a pipeline input arrives
    assert scoring_common.positive_column(["a", "b", "c"], None) is None
    with pytest.raises(RuntimeError, match="positive_label 'maybe' is not one of its classes"):
        scoring_common.positive_column(["no", "yes"], "maybe")


def test_score_predicts_the_most_probable_class_and_rounds(scoring_common) -> None:
    model, features = fit(labels("multiclass"))
    scores = scoring_common.score(model, features)
    assert scores.predictions.tolist() == model.predict(features).tolist()
    assert scores.classes == ["high", "low", "mid"]
    assert np.allclose(scores.proba, model.predict_proba(features), atol=5e-7)
    assert scores.proba.tolist() == np.round(scores.proba, 6).tolist()


def test_online_and_batch_give_the_same_numbers_for_the_same_rows(deployed) -> None:
    frame = rows()
    body = {"input_data": json.loads(frame.to_json(orient="split", index=False))}
    status, answer = post(deployed.online, body)
    assert status == 200, answer
    batch = deployed.batch.run([str(deployed.data)])

    expected = deployed.model.predict(deployed.features).tolist()
    assert answer["predictions"] == batch["prediction"].tolist() == expected
    assert answer["probability"] == batch["probability"].tolist()
    assert answer["ids"] == batch["record_id"].tolist() == frame["record_id"].tolist()
    proba = np.array(answer["probabilities"])
    assert answer["classes"] == [c.item() if hasattr(c, "item") else c for c in deployed.model.classes_]
    if deployed.kind.startswith("binary"):
        # P(positive class): the recorded positive_label, else the class that sorts last
        positive = POSITIVE[deployed.kind] or answer["classes"][-1]
        assert answer["positive_label"] == positive
        assert answer["probability"] == proba[:, answer["classes"].index(positive)].tolist()
        assert not [c for c in batch.columns if c.startswith("probability_")]
    else:
        assert "positive_label" not in answer
        assert answer["probability"] == proba.max(axis=1).tolist()
        for index, label in enumerate(answer["classes"]):
            assert batch[f"probability_{label}"].tolist() == proba[:, index].tolist()

    # what the online deployment collects for monitoring equals the batch output, column for column
    collected = [
        json.loads(line)
        for file in (Path(deployed.online.collectors["model_outputs"].root)).rglob("*.jsonl")
        for line in file.read_text().splitlines()
    ]
    outputs = pd.DataFrame(collected[-1]["data"])
    assert list(outputs.columns) == ["record_id", *[c for c in batch.columns if c == "prediction" or "probab" in c]]
    pd.testing.assert_frame_equal(outputs, batch[outputs.columns], check_dtype=False)


def test_both_deployments_upload_endpoints_and_find_their_script() -> None:
    import yaml

    for deployment, script in (
        ("online/blue.yml", "online/score.py"),
        ("online/green.yml", "online/score.py"),
        ("batch/deployment.yml", "batch/score.py"),
    ):
        code = yaml.safe_load((ENDPOINTS / deployment).read_text())["code_configuration"]
        root = ((ENDPOINTS / deployment).parent / code["code"]).resolve()
        assert root == ENDPOINTS and code["scoring_script"] == script, deployment
        assert (root / script).is_file() and (root / "scoring_common.py").is_file()
