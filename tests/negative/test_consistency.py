"""`mlops validate` refuses a project whose files disagree on a name another file owns, naming both files and
both values. Each case copies the repo's own definitions and changes one copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.project.consistency import mismatches
from mlops.project.layout import Layout

COPIED = ("pipelines", "components", "endpoints", "monitoring", "data", "environments", ".github")


@pytest.fixture
def project(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    for folder in COPIED:
        shutil.copytree(repo_root / folder, root / folder, ignore=shutil.ignore_patterns("*.csv", "__pycache__"))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(root))
    return root


def replace(root: Path, relative: str, old: str, new: str) -> None:
    file = root / relative
    text = file.read_text()
    assert old in text, f"{relative} no longer contains {old!r}: update this test"
    file.write_text(text.replace(old, new, 1))


def test_the_repo_agrees_with_itself(repo_root):
    assert mismatches(Layout(repo_root)) == []


CASES = {
    "model in a deployment": (
        "endpoints/online/green.yml",
        "model: azureml:diabetes-classifier:1",
        "model: azureml:other-model:1",
        "endpoints/online/green.yml: model: 'other-model' differs from train.yml inputs.model_name "
        "'diabetes-classifier'",
    ),
    "model in a workflow": (
        ".github/workflows/deploy.yml",
        "models/diabetes-classifier/versions",
        "models/old-name/versions",
        "'old-name' differs from train.yml inputs.model_name 'diabetes-classifier'",
    ),
    "id column in the batch deployment": (
        "endpoints/batch/deployment.yml",
        "ID_COLUMN: patient_id",
        "ID_COLUMN: pid",
        "endpoints/batch/deployment.yml: settings.environment_variables.ID_COLUMN: 'pid' differs from train.yml "
        "inputs.id_column 'patient_id'",
    ),
    "endpoint of a deployment": (
        "endpoints/online/blue.yml",
        "endpoint_name: diabetes-endpoint",
        "endpoint_name: another-endpoint",
        "endpoints/online/blue.yml: endpoint_name: 'another-endpoint' differs from endpoint.yml name "
        "'diabetes-endpoint'",
    ),
    "deployment the monitor watches": (
        "monitoring/monitor.yml",
        "endpoint_deployment_id: azureml:diabetes-endpoint:blue",
        "endpoint_deployment_id: azureml:diabetes-endpoint:red",
        "(deployment): 'red' differs from online deployments 'blue or green'",
    ),
    "lineage of the training data": (
        "pipelines/train.yml",
        "data_asset: azureml:diabetes-training:1",
        "data_asset: azureml:diabetes-training:2",
        "pipelines/train.yml: inputs.data_asset: 'azureml:diabetes-training:2' differs from train.yml "
        "inputs.training_data.path 'azureml:diabetes-training:1'",
    ),
    "batch endpoint": (
        "endpoints/batch/deployment.yml",
        "endpoint_name: diabetes-batch",
        "endpoint_name: other-batch",
        "'other-batch' differs from endpoint.yml name 'diabetes-batch'",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_copy_that_disagrees_with_its_owner_is_refused(project, case, capsys):
    relative, old, new, message = CASES[case]
    replace(project, relative, old, new)
    assert main(["validate"]) == 1
    out = capsys.readouterr().out
    assert message in out, out
    # Validating only the changed file reports it too; validating an unrelated file does not.
    assert main(["validate", str(project / relative)]) == 1
    assert message in capsys.readouterr().out
    assert main(["validate", str(project / "data" / "diabetes-training.yml")]) == 0
