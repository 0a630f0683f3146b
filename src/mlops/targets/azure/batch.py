"""Batch endpoints on Azure ML (the twin of `targets.local.batch`, which runs the same deployment YAML's scoring
script with the same settings on this machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import ModelLayout
from mlops.project.references import is_asset_ref
from mlops.targets.azure.jobs import wait_for
from mlops.targets.azure.registry import model_reference
from mlops.targets.azure.workspace import Echo, azure_errors, ensure_environment_of


def deploy(client: Any, layout: ModelLayout, model: str | None, echo: Echo = print) -> Any:
    """Create or update the batch endpoint and its deployment from endpoints/batch/, and make it the default."""
    endpoint = loaders.load_entity(layout.batch_endpoint)
    deployment = loaders.load_entity(layout.batch_deployment)
    if model:
        deployment.model = model_reference(model)
    ensure_environment_of(client, layout.project, layout.batch_deployment, echo)
    with azure_errors(f"batch endpoint {endpoint.name}"):
        client.batch_endpoints.begin_create_or_update(endpoint).result()
        client.batch_deployments.begin_create_or_update(deployment).result()
        current = client.batch_endpoints.get(name=endpoint.name)
        current.defaults.deployment_name = deployment.name
        client.batch_endpoints.begin_create_or_update(current).result()
    echo(f"batch endpoint {endpoint.name}: default deployment {deployment.name} ({deployment.model})")
    return deployment


def invoke(client: Any, layout: ModelLayout, data: str, wait: bool, echo: Echo = print) -> Any:
    """Start a batch scoring job on the endpoint: `data` is an azureml: data reference or a local file/folder."""
    from azure.ai.ml import Input

    endpoint = loaders.read_yaml(layout.batch_endpoint)["name"]
    if is_asset_ref(data):
        source = Input(type="uri_folder", path=data)
    else:
        path = Path(data)
        if not path.exists():
            raise MlopsError(f"{data}: no such file or folder")
        source = Input(type="uri_file" if path.is_file() else "uri_folder", path=str(path.resolve()))
    with azure_errors(f"invoking batch endpoint {endpoint}"):
        job = client.batch_endpoints.invoke(endpoint_name=endpoint, inputs={"input": source})
    echo(f"batch job {job.name} started; studio: {job.studio_url}")
    if not wait:
        return job
    return wait_for(client, job, "batch job", echo)
