"""`mlops validate` refuses a project whose files disagree on a name another file owns, naming both files and
both values. Each case copies the repo's own definitions and changes one copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.project.consistency import mismatches
from mlops.project.layout import Layout

COPIED = ("models", "pipelines", "components", "endpoints", "monitoring", "data", "environments", ".github")


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
        "endpoints/online/green.yml: model: 'other-model' differs from diabetes-classifier.yml name "
        "'diabetes-classifier'",
    ),
    "model in a workflow": (
        ".github/workflows/deploy.yml",
        "models/diabetes-classifier/versions",
        "models/old-name/versions",
        "'old-name' differs from diabetes-classifier.yml name 'diabetes-classifier'",
    ),
    "id column in the batch deployment": (
        "endpoints/batch/deployment.yml",
        "ID_COLUMN: patient_id",
        "ID_COLUMN: pid",
        "endpoints/batch/deployment.yml: settings.environment_variables.ID_COLUMN: 'pid' differs from "
        "diabetes-classifier.yml id_column 'patient_id'",
    ),
    "endpoint of a deployment": (
        "endpoints/online/blue.yml",
        "endpoint_name: diabetes-endpoint",
        "endpoint_name: another-endpoint",
        "endpoints/online/blue.yml: endpoint_name: 'another-endpoint' differs from diabetes-classifier.yml "
        "online_endpoint 'diabetes-endpoint'",
    ),
    "deployment the monitor watches": (
        "monitoring/monitor.yml",
        "endpoint_deployment_id: azureml:diabetes-endpoint:blue",
        "endpoint_deployment_id: azureml:diabetes-endpoint:red",
        "(deployment): 'red' differs from diabetes-classifier.yml live_deployment 'blue'",
    ),
    "lineage of the training data": (
        "pipelines/train.yml",
        "data_asset: azureml:diabetes-training:1",
        "data_asset: azureml:diabetes-training:2",
        "pipelines/train.yml: inputs.data_asset: 'azureml:diabetes-training:2' differs from "
        "diabetes-classifier.yml training_data 'azureml:diabetes-training:1'",
    ),
    "batch endpoint": (
        "endpoints/batch/deployment.yml",
        "endpoint_name: diabetes-batch",
        "endpoint_name: other-batch",
        "'other-batch' differs from diabetes-classifier.yml batch_endpoint 'diabetes-batch'",
    ),
    "target the monitor reads": (
        "monitoring/monitor.yml",
        "target_column: diabetic",
        "target_column: outcome",
        "reference_data.data_column_names.target_column: 'outcome' differs from diabetes-classifier.yml target "
        "'diabetic'",
    ),
    "a feature the model does not have, in the monitor": (
        "monitoring/monitor.yml",
        "        - smoking_status\n",
        "        - smoking_status\n        - income\n",
        "create_monitor.monitoring_signals.data_drift.features: 'income' differs from diabetes-classifier.yml",
    ),
    "the gate's threshold in the pipeline": (
        "pipelines/train.yml",
        "min_metric: 0.75",
        "min_metric: 0.7",
        "pipelines/train.yml: inputs.min_metric: '0.7' differs from diabetes-classifier.yml min_metric '0.75'",
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
