"""The sample requests in endpoints/online/ match what the model takes: the training pipeline's features plus the
id column the deployments pass through."""

import json
from pathlib import Path

import pytest
import yaml


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def declared_columns(repo_root):
    inputs = read_yaml(repo_root / "pipelines" / "train.yml")["inputs"]
    features = inputs["numeric_features"].split(",") + inputs["categorical_features"].split(",")
    id_column = read_yaml(repo_root / "endpoints" / "online" / "blue.yml")["environment_variables"]["ID_COLUMN"]
    return features, id_column


@pytest.mark.parametrize("name", ["sample-request.json", "sample-request-records.json"])
def test_sample_request_has_exactly_the_model_columns_and_the_id(repo_root, name):
    features, id_column = declared_columns(repo_root)
    data = json.loads((repo_root / "endpoints" / "online" / name).read_text())["input_data"]
    rows = [dict(zip(data["columns"], row, strict=True)) for row in data["data"]] if isinstance(data, dict) else data
    assert rows
    for row in rows:
        assert sorted(row) == sorted([*features, id_column])


def test_every_deployment_passes_the_same_id_column(repo_root):
    online = [
        read_yaml(f)["environment_variables"]["ID_COLUMN"]
        for f in (repo_root / "endpoints" / "online").glob("*.yml")
        if f.stem != "endpoint"
    ]
    batch = read_yaml(repo_root / "endpoints" / "batch" / "deployment.yml")["settings"]["environment_variables"]
    assert (
        set(online) == {batch["ID_COLUMN"]} == {read_yaml(repo_root / "pipelines" / "train.yml")["inputs"]["id_column"]}
    )
