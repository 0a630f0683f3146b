"""Where the Azure target finds its workspace, and the one place that builds the MLClient."""

import json

import pytest

from mlops.errors import MlopsError
from mlops.project.layout import Layout
from mlops.targets.azure.workspace import WorkspaceConfig, ml_client, workspace_config

FULL_ENV = {
    "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
    "AZURE_RESOURCE_GROUP": "rg-mlops-dev",
    "AZUREML_WORKSPACE_NAME": "mlw-mlops-dev",
}


def test_environment_variables_are_enough(tmp_path):
    config = workspace_config(Layout(tmp_path), FULL_ENV)
    assert config == WorkspaceConfig("00000000-0000-0000-0000-000000000001", "rg-mlops-dev", "mlw-mlops-dev")


def test_config_json_is_read_like_az_ml_does(tmp_path):
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(
        json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"})
    )
    assert workspace_config(Layout(tmp_path), {}) == WorkspaceConfig("sub", "rg", "ws")


def test_environment_wins_field_by_field_over_the_file(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"})
    )
    config = workspace_config(Layout(tmp_path), {"AZUREML_WORKSPACE_NAME": "other-ws"})
    assert config == WorkspaceConfig("sub", "rg", "other-ws")


def test_nothing_configured_lists_every_missing_setting(tmp_path):
    with pytest.raises(MlopsError) as error:
        workspace_config(Layout(tmp_path), {})
    for variable in FULL_ENV:
        assert variable in str(error.value)
    assert ".azureml/config.json" in str(error.value)


def test_partly_configured_lists_only_what_is_missing(tmp_path):
    with pytest.raises(MlopsError) as error:
        workspace_config(Layout(tmp_path), {"AZURE_SUBSCRIPTION_ID": "sub"})
    assert "AZURE_SUBSCRIPTION_ID" not in str(error.value)
    assert "AZURE_RESOURCE_GROUP" in str(error.value) and "AZUREML_WORKSPACE_NAME" in str(error.value)


def test_broken_config_file_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(MlopsError, match=r"config\.json: not valid JSON"):
        workspace_config(Layout(tmp_path), {})


def test_ml_client_targets_the_configured_workspace_without_network():
    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            raise AssertionError("building the client must not ask for a token")

    client = ml_client(WorkspaceConfig("sub-id", "rg", "ws"), credential=NoCredential())
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == ("sub-id", "rg", "ws")


def test_default_credential_is_defaultazurecredential(monkeypatch):
    import azure.identity

    created = []

    class Recorder:
        def __init__(self, **kwargs):
            created.append(kwargs)

        def get_token(self, *scopes, **kwargs):
            raise AssertionError("no token requests while building the client")

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", Recorder)
    ml_client(WorkspaceConfig("sub", "rg", "ws"))
    assert created == [{}]
