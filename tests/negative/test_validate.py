"""`mlops validate` on broken copies of the fixture project: each check fails when it should, naming file and field.

Each case starts from the valid tests/fixtures/miniproject and breaks one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mlops.cli import main
from mlops.project.layout import Layout
from mlops.project.validate import discover, validate_files


def edit_yaml(relative: str, change: Callable[[dict], None]) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        file = root / relative
        document = yaml.safe_load(file.read_text())
        change(document)
        file.write_text(yaml.safe_dump(document, sort_keys=False))
        return relative

    return apply


def write(relative: str, text: str) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        (root / relative).write_text(text)
        return relative

    return apply


def remove(relative: str) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        target = root / relative
        target.unlink()
        return relative

    return apply


SCALE = "components/scale/component.yml"
PIPELINE = "pipelines/scale_and_total.yml"

CASES = {
    "yaml syntax error": (write(SCALE, "name: [unclosed\n"), SCALE, "not valid YAML"),
    "missing $schema": (edit_yaml(SCALE, lambda d: d.pop("$schema")), SCALE, "$schema: missing"),
    "schema error the SDK catches": (
        edit_yaml(SCALE, lambda d: d["inputs"]["factor"].update(type="integr")),
        SCALE,
        "load_component rejected it",
    ),
    "unknown key in a component": (
        edit_yaml(SCALE, lambda d: d.update(comand="echo")),
        SCALE,
        "comand: unknown key",
    ),
    "unknown key in an input": (
        edit_yaml(SCALE, lambda d: d["inputs"]["factor"].update(maximum=3)),
        SCALE,
        "inputs.factor: {'maximum': ['Unknown field.']}",
    ),
    "reserved input name": (
        edit_yaml(
            SCALE,
            lambda d: (
                d["inputs"].update(home={"type": "string"}),
                d.update(command=d["command"] + " --home ${{inputs.home}}"),
            ),
        ),
        SCALE,
        "inputs.home: 'home' is a reserved name",
    ),
    "code folder missing": (
        edit_yaml(SCALE, lambda d: d.update(code="./nope")),
        SCALE,
        "code: Can't find directory or file in resolved absolute path",
    ),
    "additional include missing": (
        edit_yaml(SCALE, lambda d: d.update(additional_includes=["../shared/gone"])),
        SCALE,
        "additional_includes[0]: ../shared/gone does not exist",
    ),
    "command uses an undeclared input": (
        edit_yaml(SCALE, lambda d: d.update(command=d["command"] + " --x ${{inputs.undeclared}}")),
        SCALE,
        "command: ${{inputs.undeclared}} is not declared",
    ),
    "optional input outside $[[ ]]": (
        edit_yaml(
            SCALE,
            lambda d: d.update(
                command=d["command"].replace("$[[--label ${{inputs.label}}]]", "--label ${{inputs.label}}")
            ),
        ),
        SCALE,
        "optional input 'label' must be wrapped",
    ),
    "environment not defined": (
        edit_yaml(SCALE, lambda d: d.update(environment="azureml:tiny-env:9")),
        SCALE,
        "environment: azureml:tiny-env:9 is not defined",
    ),
    "conda file missing": (
        remove("environments/tiny/conda.yml"),
        "environments/tiny/environment.yml",
        "No such file or directory",
    ),
    "data path missing": (
        remove("data/numbers.txt"),
        "data/numbers.yml",
        "path: ./numbers.txt does not exist",
    ),
    "binding to a missing parent input": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(factor="${{parent.inputs.factr}}")),
        PIPELINE,
        "jobs.scale.inputs.factor: binds to parent input 'factr'",
    ),
    "binding to a missing step": (
        edit_yaml(
            PIPELINE,
            lambda d: d["jobs"]["total"]["inputs"].update(numbers="${{parent.jobs.scal.outputs.scaled}}"),
        ),
        PIPELINE,
        "jobs.total.inputs.numbers: binds to step 'scal'",
    ),
    "binding to a missing step output": (
        edit_yaml(
            PIPELINE,
            lambda d: d["jobs"]["total"]["inputs"].update(numbers="${{parent.jobs.scale.outputs.scald}}"),
        ),
        PIPELINE,
        "binds to output 'scald' of step 'scale'",
    ),
    "step input the component does not have": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(factr=2)),
        PIPELINE,
        "jobs.scale.inputs.factr: component 'scale_numbers' has no input 'factr'",
    ),
    "required component input not given": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].pop("source")),
        PIPELINE,
        "jobs.scale.inputs.source: required by the component but not given",
    ),
    "unknown data asset": (
        edit_yaml(PIPELINE, lambda d: d["inputs"]["numbers"].update(path="azureml:numbrs:1")),
        PIPELINE,
        "inputs.numbers.path: 'azureml:numbrs:1': no data asset named 'numbrs'",
    ),
    "component file missing": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"].update(component="../components/nope/component.yml")),
        PIPELINE,
        "jobs.scale.component: file ../components/nope/component.yml not found",
    ),
    "pipeline output nobody binds": (
        edit_yaml(PIPELINE, lambda d: d["outputs"].update(extra={"type": "uri_folder"})),
        PIPELINE,
        "outputs.extra: declared by the pipeline but no step binds to it",
    ),
    "MLTable path missing": (
        write("data/table/MLTable", "paths:\n  - file: ./absent.csv\n"),
        "data/table/MLTable",
        "paths[0].file: ./absent.csv does not exist",
    ),
}


def test_the_fixture_project_is_valid(miniproject):
    assert validate_files(Layout(miniproject), discover(Layout(miniproject))) == []


def test_the_repo_is_valid(repo_root):
    problems = validate_files(Layout(repo_root), discover(Layout(repo_root)))
    assert [p.render(repo_root) for p in problems] == []


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_broken_file_is_reported_with_file_and_field(miniproject, capsys, case):
    mutate, broken_file, expected = CASES[case]
    (miniproject / "data" / "table").mkdir(exist_ok=True)
    mutate(miniproject)
    exit_code = main(["validate"])
    out = capsys.readouterr().out
    assert exit_code == 1
    lines = [line for line in out.splitlines() if line.startswith(broken_file + ":")]
    assert any(expected in line for line in lines), out
