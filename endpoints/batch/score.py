"""Scoring script of the batch deployment (deployment.yml), run by Azure ML's batch runtime or `mlops batch-score`.

`init()` loads the MLflow model once; `run(mini_batch)` gets a list of file paths (CSV or parquet), scores every
row and returns one row per input row: the id column, the prediction, the probability columns of the rule in
../scoring_common.py (the same numbers the online deployment answers and collects), the model name and version, a
timestamp and the source file, so monitoring can join predictions to ground truth later.
A file that cannot be scored raises: the runtime retries the mini batch and counts it against error_threshold.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd

# The deployment uploads endpoints/ (code_configuration.code: ../); the code both deployments share is at its root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring_common import find_model_dir, model_identity, positive_label, score

model = None
features: list[str] = []
model_name, model_version = "unknown", "unknown"
id_column: str | None = None
positive: object = None  # a binary model's positive class (MLmodel metadata), None: the class that sorts last


def init() -> None:
    global model, features, model_name, model_version, id_column, positive
    model_dir = find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"]))
    mlmodel = mlflow.models.Model.load(str(model_dir))
    positive = positive_label(mlmodel.metadata)
    signature = mlmodel.signature
    if signature is None:
        raise RuntimeError(f"{model_dir}: the MLflow model has no signature; cannot tell which columns to score")
    features = list(signature.inputs.input_names())
    model = mlflow.sklearn.load_model(str(model_dir))
    model_name, model_version = model_identity(model_dir)
    id_column = os.environ.get("ID_COLUMN") or None


def read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ValueError(f"{path.name}: expected a .csv or .parquet file")


def score_file(path: Path) -> pd.DataFrame:
    frame = read(path)
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {missing}")
    if id_column and id_column not in frame.columns:
        raise ValueError(f"{path.name}: missing the id column '{id_column}' (ID_COLUMN)")
    rows = frame[features]
    result = pd.DataFrame(index=frame.index)
    if id_column:
        result[id_column] = frame[id_column]
    for name, values in score(model, rows, positive).columns().items():
        result[name] = values
    result["model_name"] = model_name
    result["model_version"] = model_version
    result["scored_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["source_file"] = path.name
    return result


def run(mini_batch: list[str]) -> pd.DataFrame:
    return pd.concat([score_file(Path(p)) for p in mini_batch], ignore_index=True)
