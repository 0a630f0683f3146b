"""The four component definitions: they load offline with azure-ai-ml and agree with their scripts."""

from __future__ import annotations

import ast
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
    # the script declares exactly these flags
    script = (COMPONENTS / folder / "src" / SCRIPTS[folder]).read_text()
    declared = set(re.findall(r'add_argument\("--(\w+)"', script))
    assert declared == set(component.inputs) | set(component.outputs)
    assert command.startswith(f"python {SCRIPTS[folder]} ")


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
