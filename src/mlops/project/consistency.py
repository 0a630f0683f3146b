"""Every copy of a model's facts must agree with its model definition (`models/<name>.yml`); `mlops validate`
names both files, both fields and both values when one does not.

What each model definition owns, and where the copies are:
- `name`: the pipeline's `model_name`; the deployments' `model`; the monitor's `tags.model`; the workflows;
- `task`, `target`, features, `id_column`, `sensitive_feature`, `positive_label`, `training_data`, the gate
  (`primary_metric`, `min_metric`, `min_improvement`): the training pipeline's inputs (`data_asset` too, the
  lineage it records); the monitor's `ml_task`, `target_column`, `features`, `correlation_id`, reference data;
- `id_column`: the deployments' `ID_COLUMN` variable;
- `online_endpoint`, `live_deployment`: the endpoint YAML's `name`, the deployments' `endpoint_name`, the
  monitor's `endpoint_deployment_id` and production data assets, the workflows' `ENDPOINT_NAME`;
- `batch_endpoint`: the batch endpoint's `name` and its deployment's `endpoint_name`;
- `ground_truth`: the monitor's model_performance reference data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout, ModelLayout
from mlops.project.references import parse_ref

# How workflows spell a model name or an endpoint name (the only files outside Azure ML's schemas that repeat them).
WORKFLOW_MODEL_PATTERNS = (
    re.compile(r"models/(?P<value>[A-Za-z0-9][\w.-]*)/versions/"),
    re.compile(r"--model\s+\"?(?P<value>[A-Za-z0-9][\w.-]*):"),
    re.compile(r"^\s*model:\s+(?P<value>[A-Za-z0-9][\w.-]*):\$\{\{", re.MULTILINE),
)
WORKFLOW_ENDPOINT_PATTERN = re.compile(r"^\s*ENDPOINT_NAME:\s+(?P<value>[A-Za-z0-9][\w.-]*)\s*$", re.MULTILINE)
PERFORMANCE = "model_performance"


@dataclass(frozen=True)
class Copy:
    file: Path
    field: str
    value: str


@dataclass(frozen=True)
class Mismatch:
    copy: Copy
    owner: Copy

    @property
    def message(self) -> str:
        return f"'{self.copy.value}' differs from {self.owner.file.name} {self.owner.field} '{self.owner.value}'"


def mismatches(layout: Layout) -> list[Mismatch]:
    """Every copy that disagrees with its owner, over all model definitions (a broken definition is reported by
    `mlops validate` itself; a missing file by the file's own check)."""
    found = []
    for file in layout.model_files():
        try:
            model = layout.for_model(file.stem)
        except MlopsError:
            continue
        for owner, copies in _facts(model):
            found += [Mismatch(copy, owner) for copy in copies if copy.value != owner.value]
    return found


def _facts(model: ModelLayout) -> Iterator[tuple[Copy, list[Copy]]]:
    definition = model.definition

    def owner(field: str) -> Copy:
        value = getattr(definition, field)
        return Copy(definition.source, field, _text(value))

    # The training pipeline's inputs.
    inputs = (_yaml(model.pipeline) or {}).get("inputs") or {}
    pipeline_inputs = {
        "name": "model_name",
        "task": "task",
        "target": "target_column",
        "id_column": "id_column",
        "sensitive_feature": "sensitive_feature",
        "positive_label": "positive_label",
        "numeric_features": "numeric_features",
        "categorical_features": "categorical_features",
        "primary_metric": "primary_metric",
        "min_metric": "min_metric",
        "min_improvement": "min_improvement",
        "max_disparity": "max_disparity",
        "fairness_measure": "disparity_metric",
        "training_data": "data_asset",
    }
    for field, name in pipeline_inputs.items():
        if name in inputs:
            yield owner(field), [Copy(model.pipeline, f"inputs.{name}", _text(_input_value(inputs[name])))]
    training = inputs.get("training_data")
    if isinstance(training, dict) and "path" in training:
        yield owner("training_data"), [Copy(model.pipeline, "inputs.training_data.path", str(training["path"]))]

    # Deployments.
    online = [
        (model.online_deployment(n), _yaml(model.online_deployment(n)) or {}) for n in model.online_deployment_names()
    ]
    batch = [(model.batch_deployment, _yaml(model.batch_deployment) or {})] if model.batch_deployment.is_file() else []
    yield owner("name"), [c for c in (_model_copy(f, d) for f, d in [*online, *batch]) if c]
    yield owner("id_column"), [c for c in (_id_copy(f, d) for f, d in [*online, *batch]) if c]
    endpoint = _yaml(model.online_endpoint) or {}
    endpoint_copies = [Copy(model.online_endpoint, "name", str(endpoint.get("name")))] if endpoint else []
    endpoint_copies += [Copy(f, "endpoint_name", str(d.get("endpoint_name"))) for f, d in online]
    yield owner("online_endpoint"), endpoint_copies
    if online and definition.live_deployment not in {str(d.get("name")) for _, d in online}:
        known = " or ".join(sorted(str(d.get("name")) for _, d in online))
        yield owner("live_deployment"), [Copy(model.online_endpoints, "deployments", known)]
    for file, document in online:
        yield Copy(file, "file name", file.stem), [Copy(file, "name", str(document.get("name")))]
    batch_endpoint = _yaml(model.batch_endpoint) or {}
    batch_copies = [Copy(model.batch_endpoint, "name", str(batch_endpoint.get("name")))] if batch_endpoint else []
    batch_copies += [Copy(f, "endpoint_name", str(d.get("endpoint_name"))) for f, d in batch]
    yield owner("batch_endpoint"), batch_copies

    # The monitor.
    yield from _monitor_facts(model, owner)

    # Workflows (only for the model whose endpoint they name: a project's workflows deploy one model).
    workflows = sorted(model.project.workflows.glob("*.y*ml"))
    endpoints = _workflow_copies(workflows, (WORKFLOW_ENDPOINT_PATTERN,))
    if any(c.value == definition.online_endpoint for c in endpoints) or len(model.project.model_files()) == 1:
        yield owner("online_endpoint"), endpoints
        yield owner("name"), _workflow_copies(workflows, WORKFLOW_MODEL_PATTERNS)


def _monitor_facts(model: ModelLayout, owner: Any) -> Iterator[tuple[Copy, list[Copy]]]:
    monitor = _yaml(model.monitor_config)
    if not monitor:
        return
    file, definition = model.monitor_config, model.definition
    if "model" in (monitor.get("tags") or {}):
        yield owner("name"), [Copy(file, "tags.model", str(monitor["tags"]["model"]))]
    label = (monitor.get("properties") or {}).get("mlops.positive_label")
    if label is not None:
        yield owner("positive_label"), [Copy(file, "properties.mlops.positive_label", str(label))]
    create = monitor.get("create_monitor") or {}
    target = create.get("monitoring_target") or {}
    if "ml_task" in target:
        yield owner("task"), [Copy(file, "create_monitor.monitoring_target.ml_task", str(target["ml_task"]))]
    deployment_id = target.get("endpoint_deployment_id")
    if isinstance(deployment_id, str):
        field = "create_monitor.monitoring_target.endpoint_deployment_id"
        endpoint, _, deployment = deployment_id.removeprefix("azureml:").partition(":")
        yield owner("online_endpoint"), [Copy(file, field, endpoint)]
        yield owner("live_deployment"), [Copy(file, field + " (deployment)", deployment)]
    collected = f"{definition.online_endpoint}-{definition.live_deployment}-model_"
    for name, signal in (create.get("monitoring_signals") or {}).items():
        if not isinstance(signal, dict):
            continue
        where = f"create_monitor.monitoring_signals.{name}"
        reference = ((signal.get("reference_data") or {}).get("input_data") or {}).get("path")
        if reference is not None:
            role = "ground_truth" if signal.get("type") == PERFORMANCE else "training_data"
            yield owner(role), [Copy(file, f"{where}.reference_data.input_data.path", str(reference))]
        columns = (signal.get("reference_data") or {}).get("data_column_names") or {}
        if "target_column" in columns:
            yield (
                owner("target"),
                [Copy(file, f"{where}.reference_data.data_column_names.target_column", str(columns["target_column"]))],
            )
        productions = signal.get("production_data")
        for index, production in enumerate(productions if isinstance(productions, list) else [productions]):
            path = ((production or {}).get("input_data") or {}).get("path")
            if isinstance(path, str) and "-model_" in path and signal.get("type") != PERFORMANCE:
                asset = parse_ref(path).name if path.startswith("azureml:") else path
                expected = collected + asset.rpartition("-model_")[2]
                yield (
                    Copy(definition.source, "online_endpoint-live_deployment", expected),
                    [Copy(file, f"{where}.production_data[{index}].input_data.path", asset)],
                )
            names = (production or {}).get("data_column_names") or {}
            if "correlation_id" in names:
                yield (
                    owner("id_column"),
                    [
                        Copy(
                            file,
                            f"{where}.production_data.data_column_names.correlation_id",
                            str(names["correlation_id"]),
                        )
                    ],
                )
        unknown = [f for f in signal.get("features") or [] if f not in definition.features]
        if unknown:
            yield (
                Copy(definition.source, "features", ", ".join(definition.features)),
                [Copy(file, f"{where}.features", ", ".join(unknown))],
            )


def _text(value: Any) -> str:
    """A value as the YAML files spell it: lists comma-joined (the pipeline's feature inputs), numbers plainly."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return "" if value is None else str(value)


def _input_value(value: Any) -> Any:
    return value.get("default", value.get("value", value.get("path"))) if isinstance(value, dict) else value


def _yaml(file: Path) -> dict[str, Any] | None:
    if not file.is_file():
        return None
    try:
        return loaders.read_yaml(file)
    except MlopsError:
        return None  # the file's own validation reports it


def _model_copy(file: Path, doc: dict[str, Any]) -> Copy | None:
    model = doc.get("model")
    if not isinstance(model, str):
        return None
    try:
        return Copy(file, "model", parse_ref(model).name)
    except MlopsError:
        return None  # a malformed reference is reported by the deployment check


def _id_copy(file: Path, doc: dict[str, Any]) -> Copy | None:
    """Online deployments set ID_COLUMN in `environment_variables`, batch deployments under `settings`."""
    for field, variables in (
        ("environment_variables", doc.get("environment_variables")),
        ("settings.environment_variables", (doc.get("settings") or {}).get("environment_variables")),
    ):
        if isinstance(variables, dict) and "ID_COLUMN" in variables:
            return Copy(file, f"{field}.ID_COLUMN", str(variables["ID_COLUMN"]))
    return None


def _workflow_copies(files: list[Path], patterns: tuple[re.Pattern[str], ...]) -> list[Copy]:
    copies = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        for pattern in patterns:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                copies.append(Copy(file, f"line {line}", match["value"]))
    return copies
