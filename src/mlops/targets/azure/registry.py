"""Models on Azure ML: references to registered versions, and promotion into an Azure ML registry (the twin of
`targets.local.registry`, the local MLflow registry)."""

from __future__ import annotations

from typing import Any

from mlops.errors import MlopsError
from mlops.project.references import PREFIX, parse_ref
from mlops.targets.azure.workspace import Echo, azure_errors


def model_reference(spec: str) -> str:
    """`NAME:VERSION` of a workspace model, or a registry model URI (what prod deploys after promotion)."""
    text = spec if spec.startswith(PREFIX) else f"{PREFIX}{spec}"
    try:
        ref = parse_ref(text)
    except MlopsError:
        ref = None
    if ref is None or ref.version is None or (ref.registry and ref.kind != "models"):
        raise MlopsError(
            f"--model {spec!r}: expected NAME:VERSION of a registered model (e.g. diabetes-classifier:3) or "
            "azureml://registries/<registry>/models/<name>/versions/<version>"
        )
    return str(ref)


def promote(client: Any, spec: str, registry: str, echo: Echo = print, registry_client: Any = None) -> str:
    """Copy a workspace model version into an Azure ML registry (dev -> prod without retraining); returns the
    registry URI a prod deployment names. Idempotent: an existing registry version is reused.

    It copies exactly the version named: it neither reads nor changes the workspace's `champion` tag (only the
    register_model component does, with the compare-and-set in components/shared/tabular_common/registry.py), so
    it needs no lock and cannot race a training run's promotion."""
    from azure.core.exceptions import ResourceNotFoundError

    ref = parse_ref(model_reference(spec))
    name, version = ref.name, str(ref.version)
    uri = f"azureml://registries/{registry}/models/{name}/versions/{version}"
    if registry_client is None:
        from azure.ai.ml import MLClient

        registry_client = MLClient(credential=client._credential, registry_name=registry)
    with azure_errors(f"promoting {name}:{version} to registry {registry}"):
        try:
            registry_client.models.get(name=name, version=version)
            echo(f"{uri} exists")
        except ResourceNotFoundError:
            client.models.share(
                name=name, version=version, registry_name=registry, share_with_name=name, share_with_version=version
            )
            echo(f"promoted {name}:{version} to {uri}")
    return uri
