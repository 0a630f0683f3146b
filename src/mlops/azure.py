"""The Azure target: the same YAML, sent to an Azure ML workspace with azure-ai-ml.

One place builds the MLClient (`ml_client`), with DefaultAzureCredential: OIDC in GitHub Actions, `az login` on
a laptop, managed identity on Azure compute. Everything sent to the workspace is exactly what azure-ai-ml's
loaders produce from the repo's YAML; nothing is rebuilt by hand.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops import azureml
from mlops.assets import DataCatalog
from mlops.errors import MlopsError, StepFailed
from mlops.pipeline import DataInput, load_pipeline

ENVIRONMENT_VARIABLES = {
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "resource_group": "AZURE_RESOURCE_GROUP",
    "workspace_name": "AZUREML_WORKSPACE_NAME",
}
CONFIG_FILES = (Path(".azureml") / "config.json", Path("config.json"))
TERMINAL_OK = "Completed"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class WorkspaceConfig:
    subscription_id: str
    resource_group: str
    workspace_name: str


def workspace_config(project_root: Path, environ: Mapping[str, str] | None = None) -> WorkspaceConfig:
    """Environment variables win field by field over `.azureml/config.json` (the file `az ml` and
    `MLClient.from_config` use); a clear error lists whatever is still missing."""
    environ = os.environ if environ is None else environ
    from_file: dict[str, Any] = {}
    config_file = next((project_root / c for c in CONFIG_FILES if (project_root / c).is_file()), None)
    if config_file is not None:
        try:
            from_file = json.loads(config_file.read_text())
        except json.JSONDecodeError as exc:
            raise MlopsError(f"{config_file}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        if not isinstance(from_file, dict):
            raise MlopsError(f"{config_file}: expected a JSON object with {', '.join(ENVIRONMENT_VARIABLES)}")
    values = {field: environ.get(variable) or from_file.get(field) for field, variable in ENVIRONMENT_VARIABLES.items()}
    missing = [field for field, value in values.items() if not value]
    if missing:
        wanted = ", ".join(f"{ENVIRONMENT_VARIABLES[f]} ({f})" for f in missing)
        raise MlopsError(
            f"no Azure ML workspace configured: set {wanted}, or write them to .azureml/config.json "
            '({"subscription_id": …, "resource_group": …, "workspace_name": …})'
        )
    return WorkspaceConfig(**{k: str(v) for k, v in values.items()})


def ml_client(config: WorkspaceConfig, credential: Any = None) -> Any:
    """The one MLClient of the repo."""
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(
        credential=credential or DefaultAzureCredential(),
        subscription_id=config.subscription_id,
        resource_group_name=config.resource_group,
        workspace_name=config.workspace_name,
    )


# --- what the repo defines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    kind: str  # compute | environment | data | component
    name: str
    version: str | None
    file: Path

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" + (f":{self.version}" if self.version else "")


KIND_BY_SCHEMA = {
    "amlcompute": "compute",
    "environment": "environment",
    "data": "data",
    "commandcomponent": "component",
}
SEARCHED = {"compute": "infra", "environment": "environments", "data": "data", "component": "components"}


def repo_definitions(
    root: Path, kinds: Iterable[str] = ("compute", "environment", "data", "component")
) -> list[Definition]:
    """Every compute cluster, environment, data asset and component defined by the repo's YAML, in the order a
    new workspace needs them."""
    found = []
    for kind in kinds:
        base = root / SEARCHED[kind]
        for file in sorted(base.rglob("*.y*ml")) if base.is_dir() else []:
            if "fixtures" in file.parts:
                continue
            document = azureml.read_yaml(file)
            if KIND_BY_SCHEMA.get((azureml.schema_name(document) or "").lower()) != kind:
                continue
            version = document.get("version")
            found.append(Definition(kind, str(document.get("name")), None if version is None else str(version), file))
    return found


def needed_by_pipeline(root: Path, pipeline_file: Path, overrides: list[str]) -> tuple[Any, list[Definition]]:
    """The loaded job (with `--set` applied) and what it needs in the workspace: the cluster it names, the
    environments of its components, the data assets it reads. Components travel with the job itself."""
    pipeline = load_pipeline(pipeline_file, overrides)
    if pipeline.problems:
        raise MlopsError(f"{pipeline.path}: " + "; ".join(pipeline.problems))
    defined = repo_definitions(root, ("compute", "environment", "data"))
    wanted: list[Definition] = []

    compute = str(pipeline.job.settings.default_compute or "").removeprefix("azureml:")
    wanted += [d for d in defined if d.kind == "compute" and d.name == compute]

    environments = {
        str(azureml.read_yaml(step.component_file).get("environment", "")) for step in pipeline.steps.values()
    }
    for reference in sorted(environments):
        name, _, version = reference.removeprefix("azureml:").partition(":")
        wanted += [d for d in defined if d.kind == "environment" and d.name == name and d.version == version]

    catalog = DataCatalog.from_folder(root / "data")
    sources = [s for s in pipeline.inputs.values() if isinstance(s, DataInput)]
    sources += [s for step in pipeline.steps.values() for s in step.inputs.values() if isinstance(s, DataInput)]
    for source in sources:
        if source.path.startswith("azureml:") and not source.path.startswith("azureml://"):
            asset = catalog.resolve(source.path)
            wanted += [d for d in defined if d.kind == "data" and d.file == asset.source]
    return pipeline.job, list(dict.fromkeys(wanted))


# --- sending it ------------------------------------------------------------------------------------------------


def ensure(client: Any, definitions: Iterable[Definition], echo: Echo = print) -> dict[str, str]:
    """Create or update each definition, idempotently: a compute cluster is created or updated to match its YAML;
    a versioned asset (environment, data, component) is created unless that version exists (versions are
    immutable in Azure ML: change the YAML's version to publish a change)."""
    results = {}
    for definition in definitions:
        entity = azureml.load_entity(definition.file)
        with _azure_errors(definition.label):
            if definition.kind == "compute":
                client.compute.begin_create_or_update(entity).result()
                results[definition.label] = "created or updated"
            elif _exists(_operations(client, definition.kind), definition):
                results[definition.label] = "exists"
            else:
                _operations(client, definition.kind).create_or_update(entity)
                results[definition.label] = "created"
        echo(f"{definition.label:<48} {results[definition.label]}")
    return results


def submit_pipeline(
    client: Any, root: Path, pipeline_file: Path, overrides: list[str], *, wait: bool, echo: Echo = print
) -> Any:
    """Ensure what the job needs, submit the same pipeline YAML, and (with wait) stream it to the end.
    Raises StepFailed when the job does not complete."""
    job, needed = needed_by_pipeline(root, pipeline_file, overrides)
    ensure(client, needed, echo)
    with _azure_errors(f"pipeline job {pipeline_file.name}"):
        created = client.jobs.create_or_update(job)
    echo(f"submitted {created.name} ({created.status}); studio: {created.studio_url}")
    if not wait:
        return created
    try:
        client.jobs.stream(created.name)
    except Exception as exc:  # stream raises when the job fails; the status below says how
        echo(f"stream ended: {exc}")
    final = client.jobs.get(created.name)
    echo(f"job {final.name}: {final.status}")
    if final.status != TERMINAL_OK:
        raise StepFailed(f"Azure ML job {final.name} ended {final.status}; see {final.studio_url}")
    return final


def _operations(client: Any, kind: str) -> Any:
    return {"environment": client.environments, "data": client.data, "component": client.components}[kind]


def _exists(operations: Any, definition: Definition) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        operations.get(name=definition.name, version=definition.version)
    except ResourceNotFoundError:
        return False
    return True


@contextmanager
def _azure_errors(doing: str) -> Iterator[None]:
    """Turn SDK and credential errors into one-line errors that say what was being done."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError
    from azure.identity import CredentialUnavailableError

    try:
        yield
    except (ClientAuthenticationError, CredentialUnavailableError) as exc:
        raise MlopsError(
            f"{doing}: could not authenticate to Azure ({_first_line(exc)}); run `az login`, or in GitHub Actions "
            "log in with azure/login (OIDC) before this step"
        ) from exc
    except AzureError as exc:
        raise MlopsError(f"{doing}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
