"""pipelines/rai.yml, Azure's RAI dashboard: what azure-ai-ml lets through is checked against the registry
components' published inputs and outputs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from mlops.project import rai_dashboard

RAI = Path(__file__).resolve().parents[2] / "pipelines" / "rai.yml"


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(RAI.read_text())


def exists(relative: str) -> bool:
    return (RAI.parent / relative).exists()


def test_the_repo_dashboard_is_clean_and_pins_every_component(raw) -> None:
    assert rai_dashboard.is_dashboard(raw)
    assert rai_dashboard.problems(raw, exists) == []
    names = {rai_dashboard.component_name(step) for step in raw["jobs"].values()}
    assert names == set(rai_dashboard.COMPONENTS)  # constructor, four insights, gather, score card


def broken(raw: dict, change) -> dict:
    copied = copy.deepcopy(raw)
    change(copied["jobs"])
    return copied


CASES = {
    "misspelled input": (
        lambda jobs: jobs["error_analysis"]["inputs"].update(max_dept=3),
        "jobs.error_analysis.inputs.max_dept: rai_tabular_erroranalysis has no such input",
    ),
    "floating label": (
        lambda jobs: jobs["explanation"].update(
            component="azureml://registries/azureml/components/rai_tabular_explanation/labels/latest"
        ),
        "jobs.explanation.component: labels/latest floats; pin a version",
    ),
    "missing required input": (
        lambda jobs: jobs["causal"]["inputs"].pop("treatment_features"),
        "jobs.causal.inputs.treatment_features: required by rai_tabular_causal",
    ),
    "binding to an output that does not exist": (
        lambda jobs: jobs["gather"]["inputs"].update(insight_1="${{parent.jobs.explanation.outputs.explanations}}"),
        "jobs.gather.inputs.insight_1: step 'explanation' has no output 'explanations'",
    ),
    "binding to a pipeline input that does not exist": (
        lambda jobs: jobs["constructor"]["inputs"].update(model_info="${{parent.inputs.model}}"),
        "jobs.constructor.inputs.model_info: the pipeline has no input 'model'",
    ),
    "missing local file": (
        lambda jobs: jobs["scorecard"]["inputs"]["pdf_generation_config"].update(path="./rai/missing.json"),
        "jobs.scorecard.inputs.pdf_generation_config.path: ./rai/missing.json not found",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_what_azure_ai_ml_lets_through_is_reported(raw, case) -> None:
    change, expected = CASES[case]
    found = rai_dashboard.problems(broken(raw, change), exists)
    assert any(problem.startswith(expected) for problem in found), found


def test_the_local_step_reads_the_constructors_model_and_test_data(raw) -> None:
    assert rai_dashboard.local_inputs(raw) == {
        "model": "parent:model_input",
        "test_data": "parent:test_data",
        "target_column": "parent:target_column_name",
        "task": "literal:classification",
    }
