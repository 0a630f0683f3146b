"""Names that several files repeat must agree: `mlops validate` checks each copy against the file that owns it.

- registered model name: owned by `pipelines/train.yml` inputs.model_name; copied in the online and batch
  deployments' `model`, the monitor's `tags.model` and the workflows;
- data lineage: `pipelines/train.yml` inputs.training_data.path; copied in inputs.data_asset;
- id column: `pipelines/train.yml` inputs.id_column; copied in the deployments' `ID_COLUMN` variable;
- online endpoint: `endpoints/online/endpoint.yml` name; copied in the deployments' `endpoint_name`, the monitor's
  `endpoint_deployment_id` and the workflows' `ENDPOINT_NAME`;
- online deployments: each deployment file's `name` (equal to its file name); named by the monitor's target;
- batch endpoint: `endpoints/batch/endpoint.yml` name; copied in the batch deployment's `endpoint_name`.

A problem names both files, both fields and both values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout
from mlops.project.references import parse_ref

# How workflows spell a model name or an endpoint name (the only non-Azure-ML files that repeat them).
WORKFLOW_MODEL_PATTERNS = (
    re.compile(r"models/(?P<value>[A-Za-z0-9][\w.-]*)/versions/"),
    re.compile(r"--model\s+\"?(?P<value>[A-Za-z0-9][\w.-]*):"),
    re.compile(r"^\s*model:\s+(?P<value>[A-Za-z0-9][\w.-]*):\$\{\{", re.MULTILINE),
)
WORKFLOW_ENDPOINT_PATTERN = re.compile(r"^\s*ENDPOINT_NAME:\s+(?P<value>[A-Za-z0-9][\w.-]*)\s*$", re.MULTILINE)


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
    """Every copy that disagrees with its owner; a fact whose owner file is missing is not checked."""
    found = []
    for owner, copies in _facts(layout):
        found += [Mismatch(copy, owner) for copy in copies if copy.value != owner.value]
    return found


def _facts(layout: Layout) -> Iterator[tuple[Copy, list[Copy]]]:
    train = _yaml(layout.train_pipeline)
    online_files = [layout.online_deployment(name) for name in layout.online_deployment_names()]
    online = [(file, _yaml(file)) for file in online_files]
    batch = _yaml(layout.batch_deployment)
    monitor = _yaml(layout.monitor_config)
    workflows = sorted(layout.workflows.glob("*.y*ml"))
    deployments = [*online, *([(layout.batch_deployment, batch)] if batch else [])]

    inputs = (train or {}).get("inputs") or {}
    model = _owner(layout.train_pipeline, "inputs.model_name", inputs.get("model_name"))
    if model:
        copies = [_model_copy(file, doc) for file, doc in deployments]
        if monitor and "model" in (monitor.get("tags") or {}):
            copies.append(Copy(layout.monitor_config, "tags.model", str(monitor["tags"]["model"])))
        copies += _workflow_copies(workflows, WORKFLOW_MODEL_PATTERNS)
        yield model, [c for c in copies if c]

    training_data = inputs.get("training_data")
    lineage = _owner(
        layout.train_pipeline,
        "inputs.training_data.path",
        training_data.get("path") if isinstance(training_data, dict) else None,
    )
    if lineage and "data_asset" in inputs:
        yield lineage, [Copy(layout.train_pipeline, "inputs.data_asset", str(inputs["data_asset"]))]

    id_column = _owner(layout.train_pipeline, "inputs.id_column", inputs.get("id_column"))
    if id_column:
        yield id_column, [c for c in (_id_copy(file, doc) for file, doc in deployments) if c]

    endpoint = _owner(layout.online_endpoint, "name", (_yaml(layout.online_endpoint) or {}).get("name"))
    target = _monitor_target(layout.monitor_config, monitor)
    if endpoint:
        copies = [Copy(file, "endpoint_name", str(doc.get("endpoint_name"))) for file, doc in online]
        if target:
            copies.append(Copy(layout.monitor_config, target[0].field + " (endpoint)", target[0].value))
        copies += _workflow_copies(workflows, (WORKFLOW_ENDPOINT_PATTERN,))
        yield endpoint, copies
    for file, doc in online:
        name = Copy(file, "name", str(doc.get("name")))
        yield Copy(file, "file name", file.stem), [name]
    if target and target[1].value not in {str(doc.get("name")) for _, doc in online}:
        known = " or ".join(sorted(str(doc.get("name")) for _, doc in online))
        yield Copy(layout.online_endpoints, "deployments", known), [target[1]]

    batch_endpoint = _owner(layout.batch_endpoint, "name", (_yaml(layout.batch_endpoint) or {}).get("name"))
    if batch_endpoint and batch:
        yield batch_endpoint, [Copy(layout.batch_deployment, "endpoint_name", str(batch.get("endpoint_name")))]


def _yaml(file: Path) -> dict[str, Any] | None:
    if not file.is_file():
        return None
    try:
        return loaders.read_yaml(file)
    except MlopsError:
        return None  # the file's own validation reports it


def _owner(file: Path, field: str, value: Any) -> Copy | None:
    return Copy(file, field, str(value)) if value is not None else None


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


def _monitor_target(file: Path, monitor: dict[str, Any] | None) -> tuple[Copy, Copy] | None:
    """(endpoint, deployment) of `create_monitor.monitoring_target.endpoint_deployment_id`."""
    target = ((monitor or {}).get("create_monitor") or {}).get("monitoring_target") or {}
    value = target.get("endpoint_deployment_id")
    if not isinstance(value, str):
        return None
    field = "create_monitor.monitoring_target.endpoint_deployment_id"
    endpoint, _, deployment = value.removeprefix("azureml:").partition(":")
    return Copy(file, field, endpoint), Copy(file, field + " (deployment)", deployment)


def _workflow_copies(files: list[Path], patterns: tuple[re.Pattern[str], ...]) -> list[Copy]:
    copies = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        for pattern in patterns:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                copies.append(Copy(file, f"line {line}", match["value"]))
    return copies
