"""Azure ML's Responsible AI dashboard pipeline (pipelines/rai.yml): the RAI components of the `azureml` system
registry, what `mlops validate` checks in it, and what the local target runs for it instead.

azure-ai-ml loads such a pipeline offline but checks nothing about registry components (it never fetches them): an
input name misspelled, a binding to an output that does not exist or a floating `labels/latest` pass its
validation. `COMPONENTS` holds each component's inputs and outputs as published in Azure/azureml-assets
(assets/responsibleai/tabular/components/*/spec.yaml), at the versions pipelines/rai.yml pins; `problems` checks
the file against it.

The registry components run in Azure's `responsibleai-tabular` environment (numpy <= 1.26, pandas < 2,
scikit-learn <= 1.5), which cannot unpickle a model trained on this template's stack; the constructor's
`use_model_dependency: true` installs the model's own requirements first. That is not verified here (no Azure).
Locally the dashboard's components do not exist: the same file runs the template's own RAI step
(components/rai) on the same registered model and test data, and says so.
"""

from __future__ import annotations

import re
from typing import Any

from mlops.project.references import BINDING

REGISTRY = "azureml://registries/azureml/components/"
REFERENCE = re.compile(
    r"^azureml://registries/azureml/components/(?P<name>[\w.-]+)/(?P<kind>versions|labels)/(?P<pin>.+)$"
)


def _spec(version: str, required: set[str], optional: set[str], outputs: set[str]) -> dict[str, Any]:
    return {"version": version, "required": required, "inputs": required | optional, "outputs": outputs}


DASHBOARD = "rai_insights_dashboard"
COMPONENTS: dict[str, dict[str, Any]] = {
    "rai_tabular_insight_constructor": _spec(
        "0.20.0",
        {"title", "task_type", "train_dataset", "test_dataset", "target_column_name"},
        {
            "model_info_path",
            "model_input",
            "model_info",
            "maximum_rows_for_test_dataset",
            "categorical_column_names",
            "classes",
            "feature_metadata",
            "use_model_dependency",
        },
        {DASHBOARD},
    ),
    "rai_tabular_explanation": _spec("0.20.0", {"comment", DASHBOARD}, set(), {"explanation"}),
    "rai_tabular_erroranalysis": _spec(
        "0.22.0", {DASHBOARD}, {"max_depth", "num_leaves", "min_child_samples", "filter_features"}, {"error_analysis"}
    ),
    "rai_tabular_counterfactual": _spec(
        "0.21.0",
        {DASHBOARD},
        {
            "total_CFs",
            "method",
            "desired_class",
            "desired_range",
            "permitted_range",
            "features_to_vary",
            "feature_importance",
        },
        {"counterfactual"},
    ),
    "rai_tabular_causal": _spec(
        "0.19.0",
        {DASHBOARD, "treatment_features"},
        {
            "heterogeneity_features",
            "nuisance_model",
            "heterogeneity_model",
            "alpha",
            "upper_bound_on_cat_expansion",
            "treatment_cost",
            "min_tree_leaf_samples",
            "max_tree_depth",
            "skip_cat_limit_checks",
            "categories",
            "n_jobs",
            "verbose",
            "random_state",
        },
        {"causal"},
    ),
    "rai_tabular_insight_gather": _spec(
        "0.22.0", {"constructor"}, {"insight_1", "insight_2", "insight_3", "insight_4"}, {"dashboard", "ux_json"}
    ),
    "rai_tabular_score_card": _spec(
        "0.19.0", {"dashboard", "pdf_generation_config"}, {"predefined_cohorts_json"}, {"scorecard"}
    ),
}
CONSTRUCTOR = "rai_tabular_insight_constructor"


def component_name(step: Any) -> str | None:
    """The RAI registry component a step uses, or None."""
    reference = (step or {}).get("component") if isinstance(step, dict) else None
    match = REFERENCE.match(reference) if isinstance(reference, str) else None
    return match["name"] if match and match["name"].startswith("rai_tabular_") else None


def is_dashboard(raw: dict[str, Any]) -> bool:
    """A pipeline whose steps include the RAI constructor from the azureml registry."""
    return any(component_name(step) == CONSTRUCTOR for step in (raw.get("jobs") or {}).values())


def problems(raw: dict[str, Any], exists: Any) -> list[str]:
    """What azure-ai-ml lets through: unknown or floating components, input names, missing required inputs,
    bindings to pipeline inputs or step outputs that do not exist, local files that are missing (`exists(path)`)."""
    found: list[str] = []
    steps = raw.get("jobs") or {}
    parent_inputs = set(raw.get("inputs") or {})
    outputs_of = {
        name: COMPONENTS.get(component_name(step) or "", {}).get("outputs", set()) for name, step in steps.items()
    }
    for name, step in steps.items():
        where = f"jobs.{name}"
        match = REFERENCE.match(str((step or {}).get("component", "")))
        spec = COMPONENTS.get(match["name"]) if match else None
        if spec is None:
            known = ", ".join(COMPONENTS)
            found.append(f"{where}.component: expected one of the RAI registry components ({known}) at a version")
            continue
        if match["kind"] != "versions":
            found.append(
                f"{where}.component: labels/{match['pin']} floats; pin a version (checked at {spec['version']})"
            )
        elif match["pin"] != spec["version"]:
            found.append(f"{where}.component: version {match['pin']}; the inputs here are checked at {spec['version']}")
        inputs = (step or {}).get("inputs") or {}
        for missing in sorted(spec["required"] - set(inputs)):
            found.append(f"{where}.inputs.{missing}: required by {match['name']}")
        for input_name, value in inputs.items():
            if input_name not in spec["inputs"]:
                found.append(f"{where}.inputs.{input_name}: {match['name']} has no such input")
            found += _binding_problems(f"{where}.inputs.{input_name}", value, parent_inputs, outputs_of, exists)
    if not any(component_name(step) == CONSTRUCTOR for step in steps.values()):
        found.append(f"jobs: no {CONSTRUCTOR} step")
    return found


def _binding_problems(
    where: str, value: Any, parent_inputs: set[str], outputs_of: dict[str, set[str]], exists: Any
) -> list[str]:
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and not path.startswith("azureml:") and "://" not in path and not exists(path):
            return [f"{where}.path: {path} not found (relative to the pipeline file)"]
        return []
    match = BINDING.match(value.strip()) if isinstance(value, str) and "${{" in value else None
    if isinstance(value, str) and "${{" in value and (match is None or match["parent_output"]):
        return [f"{where}: {value!r} is not a binding to a pipeline input or a step output"]
    if match and match["input"] and match["input"] not in parent_inputs:
        return [f"{where}: the pipeline has no input '{match['input']}'"]
    if match and match["step"]:
        if match["step"] not in outputs_of:
            return [f"{where}: the pipeline has no step '{match['step']}'"]
        if match["output"] not in outputs_of[match["step"]]:
            return [f"{where}: step '{match['step']}' has no output '{match['output']}'"]
    return []


def local_inputs(raw: dict[str, Any]) -> dict[str, str]:
    """What the local RAI step takes from the dashboard's constructor: the names of the pipeline inputs holding
    the model and the test data (when bound to pipeline inputs), the target column and the task."""
    constructor = next(step for step in (raw.get("jobs") or {}).values() if component_name(step) == CONSTRUCTOR)
    inputs = constructor.get("inputs") or {}
    found: dict[str, str] = {}
    for local, remote in (
        ("model", "model_input"),
        ("test_data", "test_dataset"),
        ("target_column", "target_column_name"),
    ):
        value = inputs.get(remote)
        match = BINDING.match(value.strip()) if isinstance(value, str) else None
        found[local] = f"parent:{match['input']}" if match and match["input"] else f"literal:{value}"
    found["task"] = f"literal:{inputs.get('task_type', 'classification')}"
    return found
