"""Against a real workspace: runs only when one is configured (CI's Azure jobs, or a developer after az login)."""

import os

import pytest

from mlops.cli import main

REQUIRED = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")

pytestmark = [
    pytest.mark.azure,
    pytest.mark.skipif(
        not all(os.environ.get(v) for v in REQUIRED),
        reason="live Azure test: needs " + ", ".join(REQUIRED) + " and an Azure credential (az login or OIDC)",
    ),
]


def test_ensure_then_train_on_azure():
    assert main(["azure", "ensure"]) == 0
    assert main(["pipeline", "run", "pipelines/train.yml", "--target", "azure", "--wait"]) == 0
