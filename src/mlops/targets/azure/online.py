"""Managed online endpoints on Azure ML: deploy and safe rollout from the repo's YAML (the twin of
`targets.local.online`, which serves the same deployment YAML on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError, StepFailed
from mlops.project import loaders
from mlops.project.layout import ModelLayout
from mlops.targets.azure.registry import model_reference
from mlops.targets.azure.workspace import Echo, azure_errors, ensure_environment_of


def parse_shares(spec: str, *, must_total_100: bool) -> dict[str, int]:
    """`blue=90,green=10` -> {"blue": 90, "green": 10}, with the checks Azure would make, but before any call."""
    shares: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name or not value.strip().isdigit():
            raise MlopsError(f"{spec!r}: expected DEPLOYMENT=PERCENT[,DEPLOYMENT=PERCENT], e.g. blue=90,green=10")
        shares[name.strip()] = int(value)
    if not shares or any(not 0 <= v <= 100 for v in shares.values()):
        raise MlopsError(f"{spec!r}: each percentage must be between 0 and 100")
    if must_total_100 and sum(shares.values()) != 100:
        raise MlopsError(f"{spec!r}: traffic must add up to 100, not {sum(shares.values())}")
    return shares


class OnlineRollout:
    """Safe rollout of a managed online endpoint from the repo's YAML (endpoint.yml + one YAML per deployment)."""

    def __init__(self, client: Any, layout: ModelLayout, endpoint_name: str | None = None, echo: Echo = print):
        self.client, self.layout, self.echo = client, layout, echo
        self.endpoint = loaders.load_entity(layout.online_endpoint)
        if endpoint_name:
            self.endpoint.name = endpoint_name
        self.name = self.endpoint.name

    def deployment_entity(
        self, deployment: str, model: str | None, instance_type: str | None = None, instance_count: int | None = None
    ) -> Any:
        """The deployment as loaded from its YAML, with the CLI's overrides (model, instance type and count)."""
        file = self.layout.online_deployment(deployment)
        if not file.is_file():
            known = self.layout.online_deployment_names()
            raise MlopsError(f"{file}: no such deployment YAML (deployments: {', '.join(known)})")
        entity = loaders.load_entity(file)
        entity.endpoint_name = self.name
        if model:
            entity.model = model_reference(model)
        if instance_type:
            entity.instance_type = instance_type
        if instance_count is not None:
            if instance_count < 1:
                raise MlopsError(f"--instance-count must be at least 1, not {instance_count}")
            entity.instance_count = instance_count
        return entity

    def deploy(
        self, deployment: str, model: str | None, instance_type: str | None = None, instance_count: int | None = None
    ) -> Any:
        """Create the endpoint if missing (never touching the traffic of an existing one), then create or update
        the deployment. A first deployment gets all traffic; any other starts at 0% until shifted."""
        entity = self.deployment_entity(deployment, model, instance_type, instance_count)
        ensure_environment_of(self.client, self.layout.project, self.layout.online_deployment(deployment), self.echo)
        with azure_errors(f"online endpoint {self.name}"):
            existing = self._existing_endpoint()
            if existing is None:
                self.client.online_endpoints.begin_create_or_update(self.endpoint).result()
                self.echo(f"endpoint {self.name}: created")
            self.client.online_deployments.begin_create_or_update(entity).result()
            size = f"{entity.instance_type} x {entity.instance_count}"
            self.echo(f"deployment {self.name}/{deployment}: {entity.model} on {size}")
            current = self._existing_endpoint()
            if current is not None and not any((current.traffic or {}).values()):
                current.traffic = {deployment: 100}
                self.client.online_endpoints.begin_create_or_update(current).result()
                self.echo(f"traffic {self.name}: {deployment}=100 (first deployment)")
        return entity

    def set_traffic(self, spec: str) -> dict[str, int]:
        shares = parse_shares(spec, must_total_100=True)
        endpoint = self._require_endpoint()
        self._require_deployments(shares)
        endpoint.traffic = shares
        with azure_errors(f"traffic of {self.name}"):
            self.client.online_endpoints.begin_create_or_update(endpoint).result()
        self.echo(f"traffic {self.name}: " + ", ".join(f"{k}={v}" for k, v in shares.items()))
        return shares

    def set_mirror(self, spec: str) -> dict[str, int]:
        shares = parse_shares(spec, must_total_100=False)
        if any(v > 50 for v in shares.values()):
            raise MlopsError(f"{spec!r}: Azure mirrors at most 50% of live traffic")
        endpoint = self._require_endpoint()
        self._require_deployments(shares)
        live = {k for k, v in (endpoint.traffic or {}).items() if v}
        if [k for k, v in shares.items() if v and k in live]:
            raise MlopsError(f"{spec!r}: a deployment that takes live traffic cannot also receive mirrored traffic")
        endpoint.mirror_traffic = {k: v for k, v in shares.items() if v}
        with azure_errors(f"mirror traffic of {self.name}"):
            self.client.online_endpoints.begin_create_or_update(endpoint).result()
        self.echo(f"mirror {self.name}: " + (", ".join(f"{k}={v}" for k, v in shares.items()) or "off"))
        return shares

    def rollback(self, to: str) -> None:
        """All live traffic back to one deployment, mirroring off."""
        endpoint = self._require_endpoint()
        self._require_deployments({to: 100})
        endpoint.traffic = {name: (100 if name == to else 0) for name in self._deployment_names() | {to}}
        endpoint.mirror_traffic = {}
        with azure_errors(f"rollback of {self.name}"):
            self.client.online_endpoints.begin_create_or_update(endpoint).result()
        self.echo(f"rolled back {self.name}: {to}=100, mirror off")

    def delete(self, deployment: str) -> None:
        endpoint = self._require_endpoint()
        share = (endpoint.traffic or {}).get(deployment, 0) + (endpoint.mirror_traffic or {}).get(deployment, 0)
        if share:
            raise MlopsError(f"deployment {deployment} still receives {share}% of traffic; shift it away first")
        with azure_errors(f"deleting {self.name}/{deployment}"):
            self.client.online_deployments.begin_delete(name=deployment, endpoint_name=self.name).result()
        self.echo(f"deleted deployment {self.name}/{deployment}")

    def invoke(self, deployment: str, request_file: Path) -> Any:
        """Score a request on one deployment directly, whatever its traffic share (the smoke test of a rollout)."""
        if not request_file.is_file():
            raise MlopsError(f"{request_file}: file not found")
        self._require_deployments({deployment: 0})
        with azure_errors(f"invoking {self.name}/{deployment}"):
            answer = self.client.online_endpoints.invoke(
                endpoint_name=self.name, deployment_name=deployment, request_file=str(request_file)
            )
        try:
            body = json.loads(answer)
        except (TypeError, json.JSONDecodeError) as exc:
            raise StepFailed(f"{self.name}/{deployment} answered with something that is not JSON: {answer!r}") from exc
        if not isinstance(body, dict) or "predictions" not in body:
            raise StepFailed(f"{self.name}/{deployment} answered without predictions: {body!r}")
        self.echo(f"{self.name}/{deployment}: {len(body['predictions'])} prediction(s), model {body.get('model')}")
        return body

    def _existing_endpoint(self) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.client.online_endpoints.get(name=self.name)
        except ResourceNotFoundError:
            return None

    def _require_endpoint(self) -> Any:
        with azure_errors(f"online endpoint {self.name}"):
            endpoint = self._existing_endpoint()
        if endpoint is None:
            raise MlopsError(f"online endpoint {self.name} does not exist; deploy first with --deployment and --model")
        return endpoint

    def _deployment_names(self) -> set[str]:
        with azure_errors(f"deployments of {self.name}"):
            return {d.name for d in self.client.online_deployments.list(endpoint_name=self.name)}

    def _require_deployments(self, shares: Mapping[str, int]) -> None:
        missing = sorted(set(shares) - self._deployment_names())
        if missing:
            raise MlopsError(f"endpoint {self.name} has no deployment(s) {', '.join(missing)}")
