"""`mlops azure teardown`: stop paying for an idle dev workspace without losing anything.

Deletes the online and batch endpoints the repo's YAML names (their deployments go with them) and sets each
compute cluster the repo defines to min_instances 0. Never deletes the workspace, a compute cluster, data,
models, environments or jobs: `mlops deploy` and `mlops azure ensure` bring everything back.

Safety rule: only a workspace tagged `environment: dev` (infra/main.bicep tags every resource with its profile)
and only when the caller also says `--environment dev`; anything else is refused before any change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout
from mlops.targets.azure.workspace import Echo, azure_errors, repo_definitions

ALLOWED_ENVIRONMENT = "dev"
DELETE = "delete (with its deployments)"


@dataclass(frozen=True)
class Action:
    kind: str  # online endpoint | batch endpoint | compute cluster
    name: str
    change: str | None  # what --yes does; None: nothing to do
    reason: str = ""

    def describe(self, done: bool) -> str:
        if self.change is None:
            return f"{self.kind} {self.name}: {self.reason}"
        return f"{self.kind} {self.name}: {'' if done else 'would '}{self.change}"


def endpoint_names(project: Layout) -> tuple[list[str], list[str]]:
    """(online, batch) endpoint names: each model's endpoints/online/endpoint.yml and endpoints/batch/endpoint.yml."""
    models = [project.for_model(f.stem) for f in project.model_files()] or [project.for_model()]
    online, batch = [], []
    for model in models:
        for file, found in ((model.online_endpoint, online), (model.batch_endpoint, batch)):
            if file.is_file():
                name = loaders.read_yaml(file).get("name")
                if not name:
                    raise MlopsError(f"{file}: no `name` (the endpoint to delete)")
                if name not in found:
                    found.append(str(name))
    return online, batch


def require_dev(client: Any, workspace_name: str, environment: str) -> None:
    """Refuse unless `--environment dev` and the workspace's own `environment` tag is dev."""
    if environment != ALLOWED_ENVIRONMENT:
        raise MlopsError(f"teardown is for dev only: --environment {environment} refused")
    with azure_errors(f"reading workspace {workspace_name}"):
        tags = client.workspaces.get(name=workspace_name).tags or {}
    tag = tags.get("environment")
    if tag != ALLOWED_ENVIRONMENT:
        raise MlopsError(
            f"workspace {workspace_name} has tag environment={tag!r}, not 'dev': teardown refused "
            "(infra/main.bicep tags the dev workspace environment=dev)"
        )


def plan(client: Any, project: Layout) -> list[Action]:
    """What teardown would change, from what exists now (reads only)."""
    from azure.core.exceptions import ResourceNotFoundError

    def exists(get: Callable[[], Any]) -> Any:
        try:
            return get()
        except ResourceNotFoundError:
            return None

    online, batch = endpoint_names(project)
    actions = []
    with azure_errors("reading endpoints and compute"):
        for kind, names, operations in (
            ("online endpoint", online, client.online_endpoints),
            ("batch endpoint", batch, client.batch_endpoints),
        ):
            for name in names:
                found = exists(lambda n=name, ops=operations: ops.get(name=n))
                actions.append(Action(kind, name, DELETE if found else None, "absent"))
        for definition in repo_definitions(project, ("compute",)):
            cluster = exists(lambda n=definition.name: client.compute.get(n))
            if cluster is None:
                actions.append(Action("compute cluster", definition.name, None, "absent"))
            elif int(getattr(cluster, "min_instances", 0) or 0) == 0:
                actions.append(Action("compute cluster", definition.name, None, "already scales to 0 nodes"))
            else:
                actions.append(
                    Action("compute cluster", definition.name, f"set min_instances {cluster.min_instances} -> 0")
                )
    return actions


def apply(client: Any, actions: list[Action], echo: Echo = print) -> None:
    """Carry out the plan, waiting for each long-running operation."""
    for action in actions:
        if action.change is not None:
            with azure_errors(f"teardown of {action.kind} {action.name}"):
                if action.kind == "online endpoint":
                    client.online_endpoints.begin_delete(name=action.name).result()
                elif action.kind == "batch endpoint":
                    client.batch_endpoints.begin_delete(name=action.name).result()
                else:
                    cluster = client.compute.get(action.name)
                    cluster.min_instances = 0
                    client.compute.begin_create_or_update(cluster).result()
        echo(action.describe(done=True))


def teardown(
    client: Any, project: Layout, workspace_name: str, environment: str, yes: bool, echo: Echo = print
) -> list[Action]:
    """Dry run (list what would change) unless `yes`; dev only."""
    require_dev(client, workspace_name, environment)
    actions = plan(client, project)
    if not yes:
        for action in actions:
            echo(action.describe(done=False))
        echo("dry run: nothing changed; add --yes to tear down")
        return actions
    apply(client, actions, echo)
    return actions
