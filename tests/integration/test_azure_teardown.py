"""`mlops azure teardown` without Azure: dev only, a dry run by default, and with --yes exactly the endpoint
deletions and the cluster scale-down on the fake MLClient (never the workspace, data or models)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout
from mlops.targets.azure import teardown


def done(value=None):
    return SimpleNamespace(result=lambda: value)


class Recorder:
    """Any operations object: records every call by name; `get` answers from `existing`."""

    def __init__(self, calls, group, existing=()):
        self.calls, self.group, self.existing = (
            calls,
            group,
            dict.fromkeys(existing) if not isinstance(existing, dict) else existing,
        )

    def get(self, name=None, **kwargs):
        self.calls.append((self.group, "get", name))
        if name not in self.existing:
            raise ResourceNotFoundError(f"{name} not found")
        return self.existing[name] or SimpleNamespace(name=name)

    def __getattr__(self, operation):
        def call(*args, **kwargs):
            self.calls.append((self.group, operation, kwargs.get("name") or (args[0] if args else None)))
            return done()

        return call


def fake_client(repo_root, tag="dev", min_instances=1, endpoints=True):
    calls = []
    online = loaders.read_yaml(repo_root / "endpoints" / "online" / "endpoint.yml")["name"]
    batch = loaders.read_yaml(repo_root / "endpoints" / "batch" / "endpoint.yml")["name"]
    cluster = SimpleNamespace(name="cpu-cluster", min_instances=min_instances, max_instances=2)
    workspace = SimpleNamespace(name="mlw-mlops-dev", tags={"environment": tag} if tag else {})
    client = SimpleNamespace(
        workspaces=Recorder(calls, "workspaces", {"mlw-mlops-dev": workspace}),
        online_endpoints=Recorder(calls, "online_endpoints", [online] if endpoints else []),
        batch_endpoints=Recorder(calls, "batch_endpoints", [batch] if endpoints else []),
        compute=Recorder(calls, "compute", {"cpu-cluster": cluster}),
        data=Recorder(calls, "data"),
        models=Recorder(calls, "models"),
    )
    return client, calls, cluster


def changes(calls):
    return [c for c in calls if c[1] != "get"]


def test_dry_run_lists_what_would_change_and_changes_nothing(repo_root):
    client, calls, cluster = fake_client(repo_root)
    lines = []
    actions = teardown.teardown(client, Layout(repo_root), "mlw-mlops-dev", "dev", yes=False, echo=lines.append)
    assert changes(calls) == []
    assert cluster.min_instances == 1
    assert lines == [
        "online endpoint diabetes-endpoint: would delete (with its deployments)",
        "batch endpoint diabetes-batch: would delete (with its deployments)",
        "compute cluster cpu-cluster: would set min_instances 1 -> 0",
        "dry run: nothing changed; add --yes to tear down",
    ]
    assert [a.kind for a in actions] == ["online endpoint", "batch endpoint", "compute cluster"]


def test_yes_deletes_the_endpoints_and_scales_the_cluster_to_zero_and_nothing_else(repo_root):
    client, calls, cluster = fake_client(repo_root)
    lines = []
    teardown.teardown(client, Layout(repo_root), "mlw-mlops-dev", "dev", yes=True, echo=lines.append)
    assert changes(calls) == [
        ("online_endpoints", "begin_delete", "diabetes-endpoint"),
        ("batch_endpoints", "begin_delete", "diabetes-batch"),
        ("compute", "begin_create_or_update", cluster),
    ]
    assert cluster.min_instances == 0 and cluster.max_instances == 2
    assert lines[0] == "online endpoint diabetes-endpoint: delete (with its deployments)"


def test_nothing_to_do_when_already_torn_down(repo_root):
    client, calls, _ = fake_client(repo_root, min_instances=0, endpoints=False)
    lines = []
    teardown.teardown(client, Layout(repo_root), "mlw-mlops-dev", "dev", yes=True, echo=lines.append)
    assert changes(calls) == []
    assert lines == [
        "online endpoint diabetes-endpoint: absent",
        "batch endpoint diabetes-batch: absent",
        "compute cluster cpu-cluster: already scales to 0 nodes",
    ]


@pytest.mark.parametrize(
    ("environment", "tag", "message"),
    [
        ("prod", "dev", "teardown is for dev only: --environment prod refused"),
        ("dev", "prod", "workspace mlw-mlops-dev has tag environment='prod', not 'dev': teardown refused"),
        ("dev", None, "workspace mlw-mlops-dev has tag environment=None, not 'dev'"),
    ],
)
def test_anything_but_a_dev_tagged_workspace_is_refused_before_any_call(repo_root, environment, tag, message):
    client, calls, _ = fake_client(repo_root, tag=tag)
    with pytest.raises(MlopsError, match=message.replace("(", r"\(")):
        teardown.teardown(client, Layout(repo_root), "mlw-mlops-dev", environment, yes=True, echo=lambda _: None)
    assert changes(calls) == []
    assert all(group == "workspaces" for group, _, _ in calls)
