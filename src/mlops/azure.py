"""The Azure target: the same YAML, sent to an Azure ML workspace with azure-ai-ml.

One place builds the MLClient (`ml_client`), with DefaultAzureCredential: OIDC in GitHub Actions, `az login` on
a laptop, managed identity on Azure compute. Everything sent to the workspace is exactly what azure-ai-ml's
loaders produce from the repo's YAML; nothing is rebuilt by hand.
"""

from __future__ import annotations

import json
import os
import re
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
    """Create or update each definition, idempotently: a compute cluster is created, or updated when it differs from
    its YAML;
    a versioned asset (environment, data, component) is created unless that version exists (versions are
    immutable in Azure ML: change the YAML's version to publish a change)."""
    results = {}
    for definition in definitions:
        entity = azureml.load_entity(definition.file)
        with _azure_errors(definition.label):
            if definition.kind == "compute":
                results[definition.label] = _ensure_compute(client, entity)
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
    if "registration" in (job.outputs or {}):
        report_registration(client, final.name, echo)
    return final


def report_registration(client: Any, job_name: str, echo: Echo = print) -> dict[str, Any] | None:
    """What the register step decided, read from the job's `registration` output; in GitHub Actions also exposed
    as step outputs (registered, model_name, model_version) so a deploy can follow a training run."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="registration-") as folder:
        try:
            with _azure_errors(f"downloading the registration output of {job_name}"):
                client.jobs.download(name=job_name, output_name="registration", download_path=folder)
        except MlopsError as exc:
            echo(f"registration unknown: {exc}")
            return None
        found = sorted(Path(folder).rglob("registration.json"))
        if not found:
            echo(f"registration unknown: job {job_name} has no registration.json in its registration output")
            return None
        info = json.loads(found[0].read_text())
    if info.get("registered"):
        echo(f"registered: {info.get('model_name')}:{info.get('version')}")
    else:
        echo(f"not registered: {info.get('reason')}")
    from mlops.project import write_github_outputs

    write_github_outputs(
        {
            "registered": "true" if info.get("registered") else "false",
            "model_name": str(info.get("model_name") or ""),
            "model_version": str(info.get("version") or ""),
        }
    )
    return info


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


# --- endpoints ----------------------------------------------------------------------------------------------------

ONLINE_DIR = Path("endpoints") / "online"
BATCH_DIR = Path("endpoints") / "batch"


def ensure_environment_of(client: Any, root: Path, deployment_file: Path, echo: Echo) -> None:
    """A deployment's `environment: azureml:name:version` must exist before the deployment is created."""
    reference = str(azureml.read_yaml(deployment_file).get("environment", ""))
    wanted = [d for d in repo_definitions(root, ("environment",)) if f"azureml:{d.name}:{d.version}" == reference]
    ensure(client, wanted, echo)


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


REGISTRY_MODEL = re.compile(r"^azureml://registries/[\w-]+/models/[\w.-]+/versions/[\w.-]+$")


def model_reference(spec: str) -> str:
    """`NAME:VERSION` of a workspace model, or a registry model URI (what prod deploys after promotion)."""
    if REGISTRY_MODEL.match(spec):
        return spec
    name, sep, version = spec.removeprefix("azureml:").partition(":")
    if not sep or not name or not version:
        raise MlopsError(
            f"--model {spec!r}: expected NAME:VERSION of a registered model (e.g. diabetes-classifier:3) or "
            "azureml://registries/<registry>/models/<name>/versions/<version>"
        )
    return f"azureml:{name}:{version}"


class OnlineRollout:
    """Safe rollout of a managed online endpoint from the repo's YAML (endpoint.yml + one YAML per deployment)."""

    def __init__(self, client: Any, root: Path, endpoint_name: str | None = None, echo: Echo = print):
        self.client, self.root, self.echo = client, root, echo
        self.endpoint = azureml.load_entity(root / ONLINE_DIR / "endpoint.yml")
        if endpoint_name:
            self.endpoint.name = endpoint_name
        self.name = self.endpoint.name

    def deployment_entity(self, deployment: str, model: str | None) -> Any:
        file = self.root / ONLINE_DIR / f"{deployment}.yml"
        if not file.is_file():
            known = sorted(p.stem for p in (self.root / ONLINE_DIR).glob("*.yml") if p.stem != "endpoint")
            raise MlopsError(f"{file}: no such deployment YAML (deployments: {', '.join(known)})")
        entity = azureml.load_entity(file)
        entity.endpoint_name = self.name
        if model:
            entity.model = model_reference(model)
        return entity

    def deploy(self, deployment: str, model: str | None) -> Any:
        """Create the endpoint if missing (never touching the traffic of an existing one), then create or update
        the deployment. A first deployment gets all traffic; any other starts at 0% until shifted."""
        entity = self.deployment_entity(deployment, model)
        ensure_environment_of(self.client, self.root, self.root / ONLINE_DIR / f"{deployment}.yml", self.echo)
        with _azure_errors(f"online endpoint {self.name}"):
            existing = self._existing_endpoint()
            if existing is None:
                self.client.online_endpoints.begin_create_or_update(self.endpoint).result()
                self.echo(f"endpoint {self.name}: created")
            self.client.online_deployments.begin_create_or_update(entity).result()
            self.echo(f"deployment {self.name}/{deployment}: {entity.model}")
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
        with _azure_errors(f"traffic of {self.name}"):
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
        with _azure_errors(f"mirror traffic of {self.name}"):
            self.client.online_endpoints.begin_create_or_update(endpoint).result()
        self.echo(f"mirror {self.name}: " + (", ".join(f"{k}={v}" for k, v in shares.items()) or "off"))
        return shares

    def rollback(self, to: str) -> None:
        """All live traffic back to one deployment, mirroring off."""
        endpoint = self._require_endpoint()
        self._require_deployments({to: 100})
        endpoint.traffic = {name: (100 if name == to else 0) for name in self._deployment_names() | {to}}
        endpoint.mirror_traffic = {}
        with _azure_errors(f"rollback of {self.name}"):
            self.client.online_endpoints.begin_create_or_update(endpoint).result()
        self.echo(f"rolled back {self.name}: {to}=100, mirror off")

    def delete(self, deployment: str) -> None:
        endpoint = self._require_endpoint()
        share = (endpoint.traffic or {}).get(deployment, 0) + (endpoint.mirror_traffic or {}).get(deployment, 0)
        if share:
            raise MlopsError(f"deployment {deployment} still receives {share}% of traffic; shift it away first")
        with _azure_errors(f"deleting {self.name}/{deployment}"):
            self.client.online_deployments.begin_delete(name=deployment, endpoint_name=self.name).result()
        self.echo(f"deleted deployment {self.name}/{deployment}")

    def test(self, deployment: str, request_file: Path) -> Any:
        """Score a request on one deployment directly, whatever its traffic share (the smoke test of a rollout)."""
        if not request_file.is_file():
            raise MlopsError(f"{request_file}: file not found")
        self._require_deployments({deployment: 0})
        with _azure_errors(f"invoking {self.name}/{deployment}"):
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
        with _azure_errors(f"online endpoint {self.name}"):
            endpoint = self._existing_endpoint()
        if endpoint is None:
            raise MlopsError(f"online endpoint {self.name} does not exist; deploy first with --deployment and --model")
        return endpoint

    def _deployment_names(self) -> set[str]:
        with _azure_errors(f"deployments of {self.name}"):
            return {d.name for d in self.client.online_deployments.list(endpoint_name=self.name)}

    def _require_deployments(self, shares: Mapping[str, int]) -> None:
        missing = sorted(set(shares) - self._deployment_names())
        if missing:
            raise MlopsError(f"endpoint {self.name} has no deployment(s) {', '.join(missing)}")


def deploy_batch(client: Any, root: Path, model: str | None, echo: Echo = print) -> Any:
    """Create or update the batch endpoint and its deployment from endpoints/batch/, and make it the default."""
    endpoint = azureml.load_entity(root / BATCH_DIR / "endpoint.yml")
    deployment = azureml.load_entity(root / BATCH_DIR / "deployment.yml")
    if model:
        deployment.model = model_reference(model)
    ensure_environment_of(client, root, root / BATCH_DIR / "deployment.yml", echo)
    with _azure_errors(f"batch endpoint {endpoint.name}"):
        client.batch_endpoints.begin_create_or_update(endpoint).result()
        client.batch_deployments.begin_create_or_update(deployment).result()
        current = client.batch_endpoints.get(name=endpoint.name)
        current.defaults.deployment_name = deployment.name
        client.batch_endpoints.begin_create_or_update(current).result()
    echo(f"batch endpoint {endpoint.name}: default deployment {deployment.name} ({deployment.model})")
    return deployment


def invoke_batch(client: Any, root: Path, data: str, wait: bool, echo: Echo = print) -> Any:
    """Start a batch scoring job on the endpoint: `data` is an azureml: data reference or a local file/folder."""
    from azure.ai.ml import Input

    endpoint = azureml.read_yaml(root / BATCH_DIR / "endpoint.yml")["name"]
    if data.startswith("azureml:"):
        source = Input(type="uri_folder", path=data)
    else:
        path = Path(data)
        if not path.exists():
            raise MlopsError(f"{data}: no such file or folder")
        source = Input(type="uri_file" if path.is_file() else "uri_folder", path=str(path.resolve()))
    with _azure_errors(f"invoking batch endpoint {endpoint}"):
        job = client.batch_endpoints.invoke(endpoint_name=endpoint, inputs={"input": source})
    echo(f"batch job {job.name} started; studio: {job.studio_url}")
    if not wait:
        return job
    try:
        client.jobs.stream(job.name)
    except Exception as exc:
        echo(f"stream ended: {exc}")
    final = client.jobs.get(job.name)
    if final.status != TERMINAL_OK:
        raise StepFailed(f"batch job {final.name} ended {final.status}; see {final.studio_url}")
    return final


def promote_model(client: Any, spec: str, registry: str, echo: Echo = print, registry_client: Any = None) -> str:
    """Copy a workspace model version into an Azure ML registry (dev -> prod without retraining); returns the
    registry URI a prod deployment names. Idempotent: an existing registry version is reused."""
    from azure.core.exceptions import ResourceNotFoundError

    name, _, version = model_reference(spec).removeprefix("azureml:").partition(":")
    uri = f"azureml://registries/{registry}/models/{name}/versions/{version}"
    if registry_client is None:
        from azure.ai.ml import MLClient

        registry_client = MLClient(credential=client._credential, registry_name=registry)
    with _azure_errors(f"promoting {name}:{version} to registry {registry}"):
        try:
            registry_client.models.get(name=name, version=version)
            echo(f"{uri} exists")
        except ResourceNotFoundError:
            client.models.share(
                name=name, version=version, registry_name=registry, share_with_name=name, share_with_version=version
            )
            echo(f"promoted {name}:{version} to {uri}")
    return uri


def create_monitor(client: Any, config: Path, echo: Echo = print) -> Any:
    """Create or update the model monitor schedule from its YAML (the same file the local monitor reads)."""
    schedule = azureml.load_entity(config)
    with _azure_errors(f"monitor schedule {schedule.name}"):
        created = client.schedules.begin_create_or_update(schedule).result()
    echo(f"monitor schedule {schedule.name}: created or updated ({config.name})")
    return created
