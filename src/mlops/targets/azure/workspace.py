"""The Azure target's workspace: the one MLClient, what the repo defines, and `ensure` (create what is missing).

One place builds the MLClient (`ml_client`), with DefaultAzureCredential: OIDC in GitHub Actions, `az login` on
a laptop, managed identity on Azure compute. Everything sent to the workspace is exactly what azure-ai-ml's
loaders produce from the repo's YAML; nothing is rebuilt by hand. SDK and credential errors become one-line
errors (`azure_errors`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout

ENVIRONMENT_VARIABLES = {
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "resource_group": "AZURE_RESOURCE_GROUP",
    "workspace_name": "AZUREML_WORKSPACE_NAME",
}

Echo = Callable[[str], None]


@dataclass(frozen=True)
class WorkspaceConfig:
    subscription_id: str
    resource_group: str
    workspace_name: str


def workspace_config(layout: Layout, environ: Mapping[str, str] | None = None) -> WorkspaceConfig:
    """Environment variables win field by field over `.azureml/config.json` (the file `az ml` and
    `MLClient.from_config` use); a clear error lists whatever is still missing."""
    environ = os.environ if environ is None else environ
    from_file: dict[str, Any] = {}
    config_file = next((c for c in layout.azure_config_files if c.is_file()), None)
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


def repo_definitions(
    layout: Layout, kinds: Iterable[str] = ("compute", "environment", "data", "component")
) -> list[Definition]:
    """Every compute cluster, environment, data asset and component defined by the repo's YAML, in the order a
    new workspace needs them."""
    found = []
    for kind in kinds:
        base = {
            "compute": layout.infra,
            "environment": layout.environments,
            "data": layout.data,
            "component": layout.components,
        }[kind]
        for file in sorted(base.rglob("*.y*ml")) if base.is_dir() else []:
            if "fixtures" in file.parts:
                continue
            document = loaders.read_yaml(file)
            if KIND_BY_SCHEMA.get((loaders.schema_name(document) or "").lower()) != kind:
                continue
            version = document.get("version")
            found.append(Definition(kind, str(document.get("name")), None if version is None else str(version), file))
    return found


def ensure(client: Any, definitions: Iterable[Definition], echo: Echo = print) -> dict[str, str]:
    """Create or update each definition, idempotently: a compute cluster is created, or updated when it differs from
    its YAML;
    a versioned asset (environment, data, component) is created unless that version exists (versions are
    immutable in Azure ML: change the YAML's version to publish a change)."""
    results = {}
    for definition in definitions:
        entity = loaders.load_entity(definition.file)
        with azure_errors(definition.label):
            if definition.kind == "compute":
                results[definition.label] = _ensure_compute(client, entity)
            elif _exists(_operations(client, definition.kind), definition):
                results[definition.label] = "exists"
            else:
                _operations(client, definition.kind).create_or_update(entity)
                results[definition.label] = "created"
        echo(f"{definition.label:<48} {results[definition.label]}")
    return results


COMPUTE_FIELDS = ("type", "size", "min_instances", "max_instances", "idle_time_before_scale_down", "tier")


def _ensure_compute(client: Any, wanted: Any) -> str:
    """A cluster that already matches its YAML is left alone: updating one needs compute write rights (AzureML
    Compute Operator) that the CI identity does not otherwise need."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        existing = client.compute.get(wanted.name)
    except ResourceNotFoundError:
        existing = None
    if existing is not None and all(
        str(getattr(existing, f, None)).lower() == str(getattr(wanted, f, None)).lower() for f in COMPUTE_FIELDS
    ):
        return "exists, unchanged"
    client.compute.begin_create_or_update(wanted).result()
    return "updated" if existing is not None else "created"


def _operations(client: Any, kind: str) -> Any:
    return getattr(client, {"environment": "environments", "data": "data", "component": "components"}[kind])


def _exists(operations: Any, definition: Definition) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        operations.get(name=definition.name, version=definition.version)
    except ResourceNotFoundError:
        return False
    return True


@contextmanager
def azure_errors(doing: str) -> Iterator[None]:
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


def ensure_environment_of(client: Any, layout: Layout, deployment_file: Path, echo: Echo) -> None:
    """A deployment's `environment: azureml:name:version` must exist before the deployment is created."""
    reference = str(loaders.read_yaml(deployment_file).get("environment", ""))
    wanted = [d for d in repo_definitions(layout, ("environment",)) if f"azureml:{d.name}:{d.version}" == reference]
    ensure(client, wanted, echo)
