"""The four component definitions: they load offline with azure-ai-ml and agree with their scripts."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import yaml

COMPONENTS = Path(__file__).resolve().parents[3] / "components"
SCRIPTS = {"prep": "prep.py", "train": "train.py", "evaluate": "evaluate.py", "register": "register.py"}

EXPECTED = {
    "prep": ("prep_data", True),
    "train": ("train_model", True),
    "evaluate": ("evaluate_model", False),
    "register": ("register_model", False),
}
ARGPARSE_TYPES = {"number": float, "integer": int}  # strings and paths stay str (argparse type None)
RESERVED = {"path", "ld_library_path", "user", "logname", "home", "pwd", "shell"}
FLAG = re.compile(r"--(\w+) \$\{\{(inputs|outputs)\.(\w+)\}\}")
OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]")


@pytest.fixture(scope="module")
def components() -> dict:
    from azure.ai.ml import load_component

    return {name: load_component(COMPONENTS / name / "component.yml") for name in EXPECTED}


@pytest.mark.parametrize("folder", list(EXPECTED))
def test_component_definition(components: dict, folder: str) -> None:
    component = components[folder]
    name, deterministic = EXPECTED[folder]
    assert (component.name, str(component.version), component.is_deterministic) == (name, "1", deterministic)
    raw = yaml.safe_load((COMPONENTS / folder / "component.yml").read_text())
    assert raw["environment"] == "azureml:diabetes-train-env:1"
    assert raw["code"] == "./src"
    assert component.additional_includes == ["../shared/tabular_common"]
    assert (COMPONENTS / folder / "../shared/tabular_common/__init__.py").resolve().is_file()
    assert Path(component.code).name == "src"
    assert not RESERVED & set(component.inputs)
    result = component._validate()
    assert result.passed, result.error_messages


@pytest.mark.parametrize("folder", list(EXPECTED))
def test_command_flags_match_inputs_outputs_and_argparse(components: dict, folder: str) -> None:
    component = components[folder]
    command = " ".join(component.command.split())
    bound = {(kind, name) for flag, kind, name in FLAG.findall(command) if flag == name}
    assert bound == {("inputs", n) for n in component.inputs} | {("outputs", n) for n in component.outputs}
    # optional inputs (and only those) are wrapped in $[[ ]]
    wrapped = {name for block in OPTIONAL_BLOCK.findall(command) for _, _, name in FLAG.findall(block)}
    optional = {name for name, spec in component.inputs.items() if spec.optional}
    assert wrapped == optional
    assert command.startswith(f"python {SCRIPTS[folder]} ")
    # the script declares exactly these flags
    actions = script_flags(folder)
    assert set(actions) == set(component.inputs) | set(component.outputs)


@pytest.mark.parametrize("folder", list(EXPECTED))
def test_component_yaml_owns_defaults_types_and_choices(folder: str) -> None:
    """argparse declares no defaults (component.yml does), requires every non-optional input, converts to the
    input's type and, where it restricts choices, allows exactly the input's enum."""
    raw = yaml.safe_load((COMPONENTS / folder / "component.yml").read_text())
    actions = script_flags(folder)
    for name, spec in raw["inputs"].items():
        action = actions[name]
        assert action.default is None, f"{folder}: --{name} has an argparse default; component.yml owns defaults"
        assert action.required is not spec.get("optional", False), f"{folder}: --{name} required"
        assert action.type is ARGPARSE_TYPES.get(spec["type"]), f"{folder}: --{name} type"
        if action.choices is not None:
            assert list(action.choices) == spec.get("enum"), f"{folder}: --{name} choices"
    for name in raw["outputs"]:
        assert actions[name].required and actions[name].default is None


def test_task_enums_are_the_tasks_the_code_knows() -> None:
    from tabular_common.schema import TASKS

    for folder in ("prep", "train", "evaluate"):
        raw = yaml.safe_load((COMPONENTS / folder / "component.yml").read_text())
        assert raw["inputs"]["task"]["enum"] == list(TASKS), folder


def test_estimator_enum_is_the_estimator_table() -> None:
    from estimators import ESTIMATORS

    raw = yaml.safe_load((COMPONENTS / "train" / "component.yml").read_text())
    assert raw["inputs"]["estimator"]["enum"] == list(ESTIMATORS)


def test_primary_metric_enum_is_what_evaluate_computes() -> None:
    import numpy as np
    from tabular_common.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS, task_metrics

    spec = yaml.safe_load((COMPONENTS / "evaluate" / "component.yml").read_text())["inputs"]["primary_metric"]
    y_true = np.array([0, 1, 0, 1, 1, 0])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.45, 0.55], [0.1, 0.9], [0.7, 0.3]])
    computed = {
        "classification": list(task_metrics("classification", y_true, proba.argmax(axis=1), proba, [0, 1])),
        "regression": list(task_metrics("regression", [1.0, 2.0, 3.0], [1.1, 1.9, 3.2])),
    }
    assert computed == {"classification": list(CLASSIFICATION_METRICS), "regression": list(REGRESSION_METRICS)}
    assert spec["enum"] == computed["classification"] + computed["regression"]
    assert spec["default"] in computed["classification"]
    # the description tells which metric belongs to which task: "classification - a, b; regression - c, d."
    described = dict(re.findall(r"(classification|regression) - ([\w, ]+)", " ".join(spec["description"].split())))
    assert {task: [m.strip() for m in names.split(",")] for task, names in described.items()} == computed


def test_prep_checks_the_test_size_range_of_its_yaml() -> None:
    import prep

    spec = yaml.safe_load((COMPONENTS / "prep" / "component.yml").read_text())["inputs"]["test_size"]
    assert (spec["min"], spec["max"]) == (prep.MIN_TEST_SIZE, prep.MAX_TEST_SIZE)


def test_the_training_pipeline_does_not_contradict_the_train_defaults() -> None:
    """A hyperparameter train.yml passes to the train step equals the component's default: the component owns it,
    the pipeline only exposes it for `--set inputs.<name>=...`."""
    from estimators import HYPERPARAMETERS

    pipeline = yaml.safe_load((COMPONENTS.parent / "pipelines" / "train.yml").read_text())
    defaults = yaml.safe_load((COMPONENTS / "train" / "component.yml").read_text())["inputs"]
    bindings = pipeline["jobs"]["train"]["inputs"]
    for parameter in HYPERPARAMETERS:
        binding = bindings.get(parameter.name)
        if binding is None:
            continue
        source = re.fullmatch(r"\$\{\{parent\.inputs\.(\w+)\}\}", binding)
        value = pipeline["inputs"][source[1]] if source else binding
        assert value == defaults[parameter.name]["default"], parameter.name


def script_flags(folder: str) -> dict:
    """--flag name -> argparse action of the component's script."""
    module = importlib.import_module(SCRIPTS[folder].removesuffix(".py"))
    actions = module.build_parser()._actions
    return {action.dest: action for action in actions if action.option_strings and action.dest != "help"}


def test_component_code_never_imports_the_project_package() -> None:
    for file in COMPONENTS.rglob("*.py"):
        tree = ast.parse(file.read_text(), filename=str(file))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for imported in names:
                assert imported.split(".")[0] not in {"mlops", "src"}, f"{file} imports {imported}"


def test_module_names_are_unique_across_components() -> None:
    modules = [p.name for p in COMPONENTS.glob("*/src/*.py")]
    modules += [p.name for p in (COMPONENTS / "shared").glob("*.py")]
    assert len(modules) == len(set(modules)), modules
