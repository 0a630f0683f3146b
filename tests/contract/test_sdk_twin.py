"""pipelines/train_pipeline.py (@dsl.pipeline) and pipelines/train.yml describe the same pipeline job."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml import load_job

COMPONENT_FIELDS = ("command", "code", "environment", "inputs", "outputs", "is_deterministic", "version")


def describe(job: Any) -> dict[str, Any]:
    """The parts of a pipeline job that define what runs: settings, inputs, outputs, steps, bindings."""
    as_dict = job._to_dict()
    return {
        "experiment_name": as_dict.get("experiment_name"),
        "display_name": as_dict.get("display_name"),
        "settings": as_dict.get("settings"),
        "inputs": as_dict.get("inputs"),
        "outputs": as_dict.get("outputs"),
        "steps": list(as_dict["jobs"]),
        "jobs": {
            name: {
                "type": step.get("type"),
                "inputs": {k: (v["path"] if isinstance(v, dict) else v) for k, v in (step.get("inputs") or {}).items()},
                "outputs": step.get("outputs") or {},
                "component": {k: step["component"].get(k) for k in COMPONENT_FIELDS},
            }
            for name, step in as_dict["jobs"].items()
        },
    }


@pytest.fixture(scope="module")
def twin_module(repo_root: Path):
    spec = importlib.util.spec_from_file_location("train_pipeline", repo_root / "pipelines" / "train_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sdk_twin_and_yaml_describe_the_same_graph(repo_root, twin_module):
    from_yaml = describe(load_job(source=repo_root / "pipelines" / "train.yml"))
    from_sdk = describe(twin_module.build_pipeline_job())
    assert from_sdk["steps"] == from_yaml["steps"] == ["prep", "train", "evaluate", "rai", "register"]
    for step in from_yaml["jobs"]:
        assert from_sdk["jobs"][step] == from_yaml["jobs"][step], step
    assert from_sdk == from_yaml


def test_the_comparison_notices_a_rewired_step(repo_root, twin_module):
    """Guards the test above: one binding changed must make the descriptions differ."""
    rewired = load_job(
        source=repo_root / "pipelines" / "train.yml",
        params_override=[{"jobs.evaluate.inputs.test_data": "${{parent.jobs.prep.outputs.train_data}}"}],
    )
    assert describe(rewired)["jobs"]["evaluate"] != describe(twin_module.build_pipeline_job())["jobs"]["evaluate"]


def test_sdk_twin_validates_offline(twin_module):
    result = twin_module.build_pipeline_job()._validate()
    assert result.passed, result.error_messages
