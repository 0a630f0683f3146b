"""Deploying to Azure without Azure: the online rollout and batch deployment send exactly what the loaders produce
from endpoints/*.yml (with the --model override), and refuse unsafe traffic changes before calling Azure."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError

from mlops.errors import MlopsError, StepFailed
from mlops.project import loaders as azureml
from mlops.project.layout import Layout
from mlops.targets.azure import batch
from mlops.targets.azure import online as azure_online
from mlops.targets.azure import registry as azure_registry


def done(value=None):
    return SimpleNamespace(result=lambda: value)


class FakeOnline:
    def __init__(self, existing=None, deployments=()):
        self.endpoint = existing
        self.deployments = set(deployments)
        self.sent_endpoints, self.sent_deployments, self.deleted, self.invoked = [], [], [], []

    # online_endpoints
    def get(self, name):
        if self.endpoint is None:
            raise ResourceNotFoundError("not found")
        return self.endpoint

    def begin_create_or_update(self, entity):
        if hasattr(entity, "traffic"):
            self.sent_endpoints.append(entity)
            self.endpoint = entity
        else:
            self.sent_deployments.append(entity)
            self.deployments.add(entity.name)
        return done(entity)

    def invoke(self, endpoint_name, deployment_name, request_file):
        self.invoked.append((endpoint_name, deployment_name, request_file))
        return json.dumps({"predictions": [1, 0], "model": {"name": "m", "version": "3"}})

    # online_deployments
    def list(self, endpoint_name):
        return [SimpleNamespace(name=n) for n in sorted(self.deployments)]

    def begin_delete(self, name, endpoint_name):
        self.deleted.append(name)
        self.deployments.discard(name)
        return done()


def fake_client(online):
    environments = SimpleNamespace(
        get=lambda name, version=None: SimpleNamespace(name=name), create_or_update=lambda e: e
    )
    return SimpleNamespace(online_endpoints=online, online_deployments=online, environments=environments)


def existing_endpoint(repo_root, traffic, mirror=None):
    endpoint = azureml.load_entity(repo_root / "endpoints" / "online" / "endpoint.yml")
    endpoint.traffic, endpoint.mirror_traffic = dict(traffic), dict(mirror or {})
    return endpoint


def test_first_deployment_creates_the_endpoint_and_gets_all_traffic(repo_root):
    online = FakeOnline()
    rollout = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None)
    sent = rollout.deploy("blue", "diabetes-classifier:3")
    expected = azureml.load_entity(repo_root / "endpoints" / "online" / "blue.yml")
    expected.model = "azureml:diabetes-classifier:3"
    assert sent._to_dict() == expected._to_dict()
    assert online.sent_endpoints[0]._to_dict()["name"] == "diabetes-endpoint"
    assert online.endpoint.traffic == {"blue": 100}


def test_a_second_deployment_starts_with_no_traffic_and_the_endpoint_is_not_rewritten(repo_root):
    online = FakeOnline(existing_endpoint(repo_root, {"blue": 100}), {"blue"})
    azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None).deploy(
        "green", "diabetes-classifier:4"
    )
    assert online.sent_endpoints == []
    assert online.endpoint.traffic == {"blue": 100}
    assert online.sent_deployments[0].model == "azureml:diabetes-classifier:4"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("blue=90,green=20", "must add up to 100, not 110"),
        ("blue=90,green", "expected DEPLOYMENT=PERCENT"),
        ("blue=100,red=0", "has no deployment(s) red"),
    ],
)
def test_bad_traffic_is_refused_before_azure_is_called(repo_root, spec, message):
    online = FakeOnline(existing_endpoint(repo_root, {"blue": 100}), {"blue", "green"})
    with pytest.raises(MlopsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None).set_traffic(
            spec
        )
    assert online.sent_endpoints == []


def test_shift_mirror_rollback_and_delete(repo_root):
    online = FakeOnline(existing_endpoint(repo_root, {"blue": 100}), {"blue", "green"})
    rollout = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None)
    rollout.set_mirror("green=10")
    assert online.endpoint.mirror_traffic == {"green": 10}
    with pytest.raises(MlopsError, match="takes live traffic"):
        rollout.set_mirror("blue=10")
    rollout.set_traffic("blue=90,green=10")
    assert online.endpoint.traffic == {"blue": 90, "green": 10}
    with pytest.raises(MlopsError, match="still receives 90% of traffic"):
        rollout.delete("blue")
    rollout.rollback("blue")
    assert online.endpoint.traffic == {"blue": 100, "green": 0} and online.endpoint.mirror_traffic == {}
    rollout.delete("green")
    assert online.deleted == ["green"]


def test_smoke_test_invokes_one_deployment_directly(repo_root):
    online = FakeOnline(existing_endpoint(repo_root, {"blue": 100}), {"blue", "green"})
    request = repo_root / "endpoints" / "online" / "sample-request.json"
    body = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None).invoke(
        "green", request
    )
    assert online.invoked == [("diabetes-endpoint", "green", str(request))]
    assert body["predictions"] == [1, 0]


def test_smoke_test_fails_on_an_answer_without_predictions(repo_root):
    online = FakeOnline(existing_endpoint(repo_root, {"blue": 100}), {"blue", "green"})
    online.invoke = lambda **kwargs: json.dumps({"error": "boom"})
    with pytest.raises(StepFailed, match="without predictions"):
        azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None).invoke(
            "green", repo_root / "endpoints" / "online" / "sample-request.json"
        )


def test_model_reference_must_name_a_version():
    assert azure_registry.model_reference("diabetes-classifier:3") == "azureml:diabetes-classifier:3"
    with pytest.raises(MlopsError, match="expected NAME:VERSION"):
        azure_registry.model_reference("diabetes-classifier")


def test_batch_deployment_is_sent_as_loaded_and_made_the_default(repo_root):
    endpoints = []
    deployments = []
    current = SimpleNamespace(defaults=SimpleNamespace(deployment_name=None), name="diabetes-batch")

    def create_endpoint(entity):
        endpoints.append(entity)
        return done(entity)

    client = SimpleNamespace(
        environments=SimpleNamespace(get=lambda name, version=None: None, create_or_update=lambda e: e),
        batch_endpoints=SimpleNamespace(begin_create_or_update=create_endpoint, get=lambda name: current),
        batch_deployments=SimpleNamespace(begin_create_or_update=lambda e: (deployments.append(e), done(e))[1]),
    )
    batch.deploy(client, Layout(repo_root).for_model(), "diabetes-classifier:5", echo=lambda _: None)
    expected = azureml.load_entity(repo_root / "endpoints" / "batch" / "deployment.yml")
    expected.model = "azureml:diabetes-classifier:5"
    assert deployments[0]._to_dict() == expected._to_dict()
    assert endpoints[0]._to_dict() == azureml.load_entity(repo_root / "endpoints" / "batch" / "endpoint.yml")._to_dict()
    assert current.defaults.deployment_name == "classifier"


def test_promotion_shares_the_workspace_version_into_the_registry_once(repo_root):
    shared = []
    registry_versions = set()

    def share(name, version, registry_name, share_with_name, share_with_version):
        shared.append((name, version, registry_name, share_with_name, share_with_version))
        registry_versions.add((name, version))

    def get(name, version):
        if (name, version) not in registry_versions:
            raise ResourceNotFoundError("not in registry")

    workspace = SimpleNamespace(models=SimpleNamespace(share=share))
    registry = SimpleNamespace(models=SimpleNamespace(get=get))
    uri = azure_registry.promote(
        workspace, "diabetes-classifier:3", "reg", echo=lambda _: None, registry_client=registry
    )
    assert uri == "azureml://registries/reg/models/diabetes-classifier/versions/3"
    assert shared == [("diabetes-classifier", "3", "reg", "diabetes-classifier", "3")]
    azure_registry.promote(workspace, "diabetes-classifier:3", "reg", echo=lambda _: None, registry_client=registry)
    assert len(shared) == 1  # idempotent
    assert azure_registry.model_reference(uri) == uri  # prod deploys the registry URI as is


def test_instance_type_and_count_overrides_reach_the_deployment_sent_to_azure(repo_root):
    online = FakeOnline()
    rollout = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None)
    rollout.deploy("blue", "diabetes-classifier:3", instance_type="Standard_DS2_v2", instance_count=2)
    [sent] = online.sent_deployments
    expected = azureml.load_entity(repo_root / "endpoints" / "online" / "blue.yml")
    expected.model, expected.instance_type, expected.instance_count = (
        "azureml:diabetes-classifier:3",
        "Standard_DS2_v2",
        2,
    )
    assert sent._to_dict() == expected._to_dict()
    assert (sent.instance_type, sent.instance_count) == ("Standard_DS2_v2", 2)


def test_without_overrides_the_yaml_instance_type_is_sent(repo_root):
    online = FakeOnline()
    azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None).deploy(
        "green", "diabetes-classifier:3"
    )
    yaml_type = azureml.read_yaml(repo_root / "endpoints" / "online" / "green.yml")["instance_type"]
    assert online.sent_deployments[0].instance_type == yaml_type


def test_a_zero_instance_count_is_refused_before_azure_is_called(repo_root):
    online = FakeOnline()
    rollout = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None)
    with pytest.raises(MlopsError, match="--instance-count must be at least 1, not 0"):
        rollout.deploy("blue", "diabetes-classifier:3", instance_count=0)
    assert online.sent_deployments == []


def test_deploy_with_a_profile_sends_the_profiles_serving_size_and_flags_win(repo_root, tmp_path):
    from argparse import Namespace

    from mlops.cli import azure_verbs

    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "dev.bicepparam").write_text(
        "param onlineInstanceType = 'Standard_DS1_v2' // small\nparam onlineInstanceCount = 1\n"
    )
    where = SimpleNamespace(project=Layout(tmp_path))
    flags = {"instance_type": None, "instance_count": None, "profile": "dev"}
    assert azure_verbs.serving_size(where, Namespace(**flags))[:2] == ("Standard_DS1_v2", 1)
    assert azure_verbs.serving_size(where, Namespace(**{**flags, "instance_count": 3}))[:2] == ("Standard_DS1_v2", 3)
    assert azure_verbs.serving_size(where, Namespace(**{**flags, "profile": None}))[:2] == (None, None)
    sku, count, _ = azure_verbs.serving_size(where, Namespace(**flags))
    online = FakeOnline()
    rollout = azure_online.OnlineRollout(fake_client(online), Layout(repo_root).for_model(), echo=lambda _: None)
    rollout.deploy("green", "diabetes-classifier:3", sku, count)
    assert (online.sent_deployments[0].instance_type, online.sent_deployments[0].instance_count) == (sku, count)
