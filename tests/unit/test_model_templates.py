"""The model templates (templates/model/, mlops.project.templates): the sample model renders to its committed
files, and every task type renders files Azure's loaders and `mlops validate` accept."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import jinja2
import numpy as np
import pytest
import yaml

from mlops.errors import MlopsError
from mlops.monitoring.config import load_config
from mlops.project.layout import Layout
from mlops.project.loaders import load_entity
from mlops.project.model import ModelDefinition, load_model_definition
from mlops.project.templates import (
    PACKAGE_TEMPLATES,
    environment,
    new_model_files,
    render_model,
    write_files,
    yaml_flow,
    yaml_scalar,
    yaml_text,
)
from mlops.project.validate import discover, validate_files

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "models" / "diabetes-classifier.yml"
# Azure ML's own binding syntax, which the rendered pipeline keeps; anything else in braces is a template leftover.
BINDING = re.compile(r"\$\{\{[^{}]*\}\}")
MARKERS = ("{{", "}}", "{%", "%}", "{#", "#}")


@pytest.fixture(scope="module")
def sample() -> ModelDefinition:
    return load_model_definition(SAMPLE)


@pytest.fixture(scope="module")
def sample_render(sample: ModelDefinition) -> dict[Path, str]:
    return render_model(REPO, sample, files=sample.files)


def _sample_files(sample: ModelDefinition) -> list[str]:
    online, batch = sample.files.online, sample.files.batch
    return [
        sample.files.pipeline,
        f"{online}/endpoint.yml",
        f"{online}/blue.yml",
        f"{online}/green.yml",
        f"{batch}/endpoint.yml",
        f"{batch}/deployment.yml",
        sample.files.monitor,
        f"models/{sample.name}.yml",
    ]


@pytest.mark.parametrize("relative", _sample_files(load_model_definition(SAMPLE)))
def test_sample_model_renders_to_its_committed_files(sample_render: dict[Path, str], relative: str) -> None:
    """The guarantee that the templates and the sample never drift: equal as data (comments aside)."""
    rendered = yaml.safe_load(sample_render[Path(relative)])
    committed = yaml.safe_load((REPO / relative).read_text(encoding="utf-8"))
    assert rendered == committed, _first_difference(rendered, committed, relative)


def test_sample_render_writes_no_data_assets_the_project_defines(sample_render: dict[Path, str]) -> None:
    assert not [p for p in sample_render if p.parts[0] == "data"]


def _first_difference(rendered: object, committed: object, where: str) -> str:
    if isinstance(rendered, dict) and isinstance(committed, dict):
        for key in [*committed, *(k for k in rendered if k not in committed)]:
            if rendered.get(key) != committed.get(key):
                return _first_difference(rendered.get(key), committed.get(key), f"{where}: {key}")
    return f"{where}: rendered {rendered!r} != committed {committed!r}"


# --- the matrix: binary with string labels, multiclass, regression; with and without a sensitive feature -------


def _definition(kind: str, sensitive: bool) -> ModelDefinition:
    name = f"{kind}-{'fair' if sensitive else 'plain'}"
    common = {
        "name": name,
        "training_data": f"azureml:{name}-training:1",
        "production_batches": [f"azureml:{name}-production@latest"],
        "ground_truth": f"azureml:{name}-ground-truth:1",
        "online_endpoint": f"{name}-endpoint",
        "live_deployment": "blue",
        "batch_endpoint": f"{name}-batch",
        "files": new_model_files(name),
        "source": Path(f"models/{name}.yml"),
        "min_improvement": 0.001,
    }
    if kind == "binary":
        return ModelDefinition(
            **common,
            task="classification",
            target="churned",
            positive_label="yes",
            id_column="customer_id",
            numeric_features=["tenure", "monthly_charges"],
            categorical_features=["contract", "gender"],
            sensitive_feature="gender" if sensitive else None,
            primary_metric="roc_auc",
            min_metric=0.7,
        )
    if kind == "multiclass":
        return ModelDefinition(
            **common,
            task="classification",
            target="species",
            id_column="flower_id",
            numeric_features=["sepal_length", "sepal_width", "petal_length", "petal_width"],
            categorical_features=["garden"] if sensitive else [],
            sensitive_feature="garden" if sensitive else None,
            primary_metric="accuracy",
            min_metric=0.8,
        )
    return ModelDefinition(
        **common,
        task="regression",
        target="price",
        id_column="house_id",
        numeric_features=["area", "rooms", "year_built"],
        categorical_features=["district"],
        sensitive_feature="district" if sensitive else None,
        primary_metric="r2",
        min_metric=0.3,
    )


CASES = [(kind, sensitive) for kind in ("binary", "multiclass", "regression") for sensitive in (True, False)]
CASE_IDS = [f"{kind}-{'sensitive' if sensitive else 'no-sensitive'}" for kind, sensitive in CASES]


def _render(kind: str, sensitive: bool) -> tuple[ModelDefinition, dict[Path, str]]:
    definition = _definition(kind, sensitive)
    return definition, render_model(REPO, definition)


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, bool], tuple[ModelDefinition, dict[Path, str]]]:
    return {case: _render(*case) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_render_has_every_file_in_a_new_models_folders(renders, case) -> None:
    definition, rendered = renders[case]
    name = definition.name
    assert set(rendered) == {
        Path(p)
        for p in (
            f"models/{name}.yml",
            f"pipelines/{name}.yml",
            f"endpoints/{name}/online/endpoint.yml",
            f"endpoints/{name}/online/blue.yml",
            f"endpoints/{name}/online/green.yml",
            f"endpoints/{name}/batch/endpoint.yml",
            f"endpoints/{name}/batch/deployment.yml",
            f"monitoring/{name}.yml",
            f"data/{name}-training.yml",
            f"data/{name}/training/MLTable",
            f"data/{name}-production.yml",
            f"data/{name}-ground-truth.yml",
        )
    }


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_no_template_marker_remains(renders, case) -> None:
    _, rendered = renders[case]
    for path, text in rendered.items():
        leftover = [m for m in MARKERS if m in BINDING.sub("", text)]
        assert not leftover, f"{path}: {leftover}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_rendered_file_loads_with_azure_ai_ml(renders, case, tmp_path: Path) -> None:
    definition, rendered = renders[case]
    project = _project_copy(tmp_path, [rendered])
    for relative in rendered:
        file = project / relative
        if relative.parts[0] == "models":
            assert load_model_definition(file).features == definition.features
        elif file.name != "MLTable":
            assert load_entity(file) is not None, relative
    monitor = load_config(project / definition.files.monitor)  # the local monitor's reader, after the SDK's
    assert monitor.ml_task == definition.task


def test_every_render_passes_mlops_validate_in_one_project(renders, tmp_path: Path) -> None:
    """All six models side by side in a copy of the project: no problem, no mismatch with their definitions."""
    project = _project_copy(tmp_path, [rendered for _, rendered in renders.values()])
    layout = Layout(project, state_root=tmp_path / "state")
    problems = validate_files(layout, discover(layout))
    assert not problems, "\n".join(p.render(project) for p in problems)
    assert len(layout.model_files()) == len(CASES)


def _project_copy(tmp_path: Path, renders: list[dict[Path, str]]) -> Path:
    """The project's shared parts (components, environments, scoring code) plus the rendered files and small data."""
    project = tmp_path / "project"
    for folder in ("components", "environments"):
        shutil.copytree(REPO / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for script in ("online/score.py", "batch/score.py", "scoring_common.py"):
        (project / "endpoints" / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "endpoints" / script, project / "endpoints" / script)
    (project / "pipelines").mkdir()
    for rendered in renders:
        write_files(project, rendered)
        for relative, text in rendered.items():
            if relative.parts[0] != "data" or relative.name == "MLTable":
                continue
            document = yaml.safe_load(text)
            data = project / "data" / document["path"]
            if document["type"] == "mltable":
                table = yaml.safe_load((data / "MLTable").read_text(encoding="utf-8"))
                data = data / table["paths"][0]["file"]
            data.parent.mkdir(parents=True, exist_ok=True)
            data.write_text("id,value\n1,2\n", encoding="utf-8")
    return project


def test_regression_monitor_has_no_classification_settings(renders) -> None:
    definition, rendered = renders[("regression", True)]
    monitor = yaml.safe_load(rendered[Path(definition.files.monitor)])
    signals = monitor["create_monitor"]["monitoring_signals"]
    assert monitor["create_monitor"]["monitoring_target"]["ml_task"] == "regression"
    assert "prediction_probability" not in yaml.safe_dump(monitor)
    assert "mlops.positive_label" not in monitor["properties"]
    # azure-ai-ml 1.35 cannot load regression performance thresholds, so the signal is left out (and not retrained on)
    assert "model_performance" not in signals
    assert "model_performance" not in monitor["properties"]["mlops.retrain.signals"]
    assert set(signals["prediction_drift"]["metric_thresholds"]) == {"numerical"}
    assert yaml.safe_load(rendered[Path(definition.files.pipeline)])["inputs"]["estimator"] == "linear_regression"


def test_binary_model_with_string_labels_names_its_positive_class(renders) -> None:
    definition, rendered = renders[("binary", True)]
    pipeline = yaml.safe_load(rendered[Path(definition.files.pipeline)])
    monitor = yaml.safe_load(rendered[Path(definition.files.monitor)])
    assert pipeline["inputs"]["positive_label"] == "yes"
    assert monitor["properties"]["mlops.positive_label"] == "yes"
    signals = monitor["create_monitor"]["monitoring_signals"]
    assert (
        signals["prediction_drift"]["production_data"]["data_column_names"]["prediction_probability"] == "probability"
    )


def test_without_a_sensitive_feature_or_positive_label_the_inputs_are_empty(renders) -> None:
    definition, rendered = renders[("multiclass", False)]
    inputs = yaml.safe_load(rendered[Path(definition.files.pipeline)])["inputs"]
    assert (inputs["sensitive_feature"], inputs["positive_label"], inputs["categorical_features"]) == ("", "", "")
    model = yaml.safe_load(rendered[Path("models") / f"{definition.name}.yml"])
    assert "sensitive_feature" not in model and "positive_label" not in model


def test_deployments_reach_the_scoring_code_from_a_new_models_folder(renders) -> None:
    definition, rendered = renders[("binary", False)]
    online = yaml.safe_load(rendered[Path(definition.files.online) / "blue.yml"])
    batch = yaml.safe_load(rendered[Path(definition.files.batch) / "deployment.yml"])
    assert online["code_configuration"]["code"] == batch["code_configuration"]["code"] == "../../"
    assert online["environment"] == "azureml:diabetes-inference-env:1"  # the project's shared environment
    assert online["environment_variables"]["ID_COLUMN"] == batch["settings"]["environment_variables"]["ID_COLUMN"]


def test_a_green_live_deployment_makes_blue_the_candidate(renders) -> None:
    definition, _ = renders[("binary", False)]
    rendered = render_model(REPO, replace(definition, live_deployment="green"))
    monitor = yaml.safe_load(rendered[Path(definition.files.monitor)])
    assert monitor["create_monitor"]["monitoring_target"]["endpoint_deployment_id"].endswith(":green")
    blue = yaml.safe_load(rendered[Path(definition.files.online) / "blue.yml"])
    assert "candidate" in blue["description"]


# --- thresholds --------------------------------------------------------------------------------------------------


def test_given_thresholds_replace_the_default_blocks(renders) -> None:
    definition, _ = renders[("binary", True)]
    calibrated = {"data_drift": {"numerical": {"normalized_wasserstein_distance": 0.25}}}
    rendered = render_model(REPO, definition, thresholds=calibrated)
    signals = yaml.safe_load(rendered[Path(definition.files.monitor)])["create_monitor"]["monitoring_signals"]
    assert signals["data_drift"]["metric_thresholds"] == calibrated["data_drift"]
    assert signals["data_quality"]["metric_thresholds"]["numerical"]["null_value_rate"] == 0.05


def test_a_classifier_without_ground_truth_has_no_performance_signal() -> None:
    without_labels = replace(_definition("binary", False), ground_truth=None)
    rendered = render_model(REPO, without_labels)
    monitor = yaml.safe_load(rendered[Path(without_labels.files.monitor)])
    assert "model_performance" not in monitor["create_monitor"]["monitoring_signals"]
    assert "model_performance" not in monitor["properties"]["mlops.retrain.signals"]
    assert not any(p.name.endswith("-ground-truth.yml") for p in rendered)


@pytest.mark.parametrize(
    ("kind", "thresholds", "message"),
    [
        ("binary", {"drift": {}}, "no monitor signal named drift"),
        ("binary", {"model_performance": {"regression": {"mae": 1.0}}}, "expected {'classification'"),
        ("regression", {"model_performance": {"regression": {"mae": 1.0}}}, "has no model_performance signal"),
    ],
)
def test_bad_thresholds_are_refused(kind, thresholds, message) -> None:
    with pytest.raises(MlopsError, match=re.escape(message)):
        render_model(REPO, _definition(kind, True), thresholds=thresholds)


# --- writing and the Jinja environment ---------------------------------------------------------------------------


def test_write_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    rendered = {Path("a/one.yml"): "one: 1\n", Path("two.yml"): "two: 2\n"}
    write_files(tmp_path, rendered)
    (tmp_path / "two.yml").write_text("mine\n", encoding="utf-8")
    with pytest.raises(MlopsError, match=r"two\.yml"):
        write_files(tmp_path, {**rendered, Path("three.yml"): "3\n"})
    assert not (tmp_path / "three.yml").exists()  # nothing written when anything would be overwritten
    write_files(tmp_path, rendered, force=True)
    assert (tmp_path / "two.yml").read_text(encoding="utf-8") == "two: 2\n"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["one.yml", "two.yml"]  # no temp files


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        environment(PACKAGE_TEMPLATES).from_string("name: {{ nmae }}").render(name="x")


@pytest.mark.parametrize(
    "value", ["yes", "1", "null", "a: b", "x #y", "1:30", "plain-name", "with space", 0.75, 1e-05, 3, True, None]
)
def test_scalars_read_back_as_themselves(value) -> None:
    assert yaml.safe_load(f"key: {yaml_scalar(value)}") == {"key": value}


def test_labels_and_lists_read_back() -> None:
    assert yaml.safe_load(yaml_text(1)) == "1"
    assert yaml.safe_load(yaml_text(np.float64(2.0))) == "2"
    assert yaml.safe_load(yaml_text(None)) == ""
    assert yaml.safe_load(yaml_flow(["a", "b, c", "yes"])) == ["a", "b, c", "yes"]
    assert yaml.safe_load(yaml_scalar(np.float32(0.5))) == 0.5
