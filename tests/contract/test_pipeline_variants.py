"""The training pipeline's variants say only what differs: the serverless one is train.yml on serverless compute;
the sweep and AutoML ones replace the train step and keep every other input (gate, model name, data) equal."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def load(name: str) -> dict:
    return yaml.safe_load((PIPELINES / name).read_text())


def test_the_serverless_pipeline_is_train_yml_on_serverless_compute() -> None:
    train, serverless = load("train.yml"), load("train-serverless.yml")
    assert serverless["settings"]["default_compute"] == "azureml:serverless"
    assert {k: v for k, v in serverless["settings"].items() if k != "default_compute"} == {
        k: v for k, v in train["settings"].items() if k != "default_compute"
    }
    steps = copy.deepcopy(serverless["jobs"])
    for name, step in steps.items():
        assert step.pop("resources")["instance_type"], f"{name}: a serverless step names its VM size"
    assert steps == train["jobs"]
    assert (serverless["inputs"], serverless["outputs"]) == (train["inputs"], train["outputs"])


@pytest.mark.parametrize(("name", "step"), [("train-sweep.yml", "sweep"), ("train-automl.yml", "automl")])
def test_a_variant_replaces_only_the_train_step(name: str, step: str) -> None:
    train, variant = load("train.yml"), load(name)
    assert set(variant["jobs"]) == {"prep", step, "evaluate", "rai", "register"}
    for kept in ("prep",):
        assert variant["jobs"][kept] == train["jobs"][kept]
    for consumer in ("evaluate", "rai", "register"):
        model = variant["jobs"][consumer]["inputs"].pop("model")
        assert step in model and train["jobs"][consumer]["inputs"].pop("model")
        assert variant["jobs"][consumer] == train["jobs"][consumer]
    unused = {"estimator", "n_estimators"}  # the train step's own choices
    assert variant["inputs"] == {k: v for k, v in train["inputs"].items() if k not in unused}
    assert variant["outputs"] == train["outputs"] and variant["settings"] == train["settings"]
