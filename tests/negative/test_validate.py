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


def both(first: Callable[[Path], str], second: Callable[[Path], str]) -> Callable[[Path], str]:
    """Two edits; the second names the broken file."""

    def apply(root: Path) -> str:
        first(root)
        return second(root)

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
        "comand: unknown field",
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

# What the loaders let through and a run would also refuse: `mlops validate` and `mlops pipeline run` must report
# each of these with the same field path (test_validate_and_run_agree).
RATIO = {"type": "number", "default": 0.5, "min": 0, "max": 1}
with_ratio = edit_yaml(
    SCALE, lambda d: (d["inputs"].update(ratio=RATIO), d.update(command=d["command"] + " --ratio ${{inputs.ratio}}"))
)
RUN_REFUSES = {
    "unknown key at step level": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"].update(inptus={"factor": 2})),
        PIPELINE,
        "jobs.scale.inptus: unknown field",
    ),
    "unknown key in a component the pipeline uses": (
        both(edit_yaml(SCALE, lambda d: d.update(comand="echo")), lambda root: PIPELINE),
        PIPELINE,
        "jobs.scale.component: ../components/scale/component.yml: comand: unknown field",
    ),
    "pipeline input below the component's min": (
        edit_yaml(PIPELINE, lambda d: d["inputs"].update(factor=-1)),
        PIPELINE,
        "jobs.scale.inputs.factor: -1 is below the minimum 1",
    ),
    "step literal above the component's max": (
        edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(factor=11)),
        PIPELINE,
        "jobs.scale.inputs.factor: 11 is above the maximum 10",
    ),
    "nan for a number": (
        both(with_ratio, edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(ratio="nan"))),
        PIPELINE,
        "jobs.scale.inputs.ratio: expected a finite number, got 'nan'",
    ),
    "inf for a number": (
        both(with_ratio, edit_yaml(PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(ratio="inf"))),
        PIPELINE,
        "jobs.scale.inputs.ratio: expected a finite number, got 'inf'",
    ),
    "nan for an integer": (
        edit_yaml(PIPELINE, lambda d: d["inputs"].update(factor="nan")),
        PIPELINE,
        "jobs.scale.inputs.factor: expected an integer, got 'nan'",
    ),
    "steps in a cycle": (
        edit_yaml(
            PIPELINE, lambda d: d["jobs"]["scale"]["inputs"].update(source="${{parent.jobs.total.outputs.total}}")
        ),
        PIPELINE,
        "jobs: the steps depend on each other in a cycle (each reads an output of the one before): "
        "scale -> total -> scale",
    ),
}


def test_the_fixture_project_is_valid(miniproject):
    assert validate_files(Layout(miniproject), discover(Layout(miniproject))) == []


def test_the_repo_is_valid(repo_root):
    problems = validate_files(Layout(repo_root), discover(Layout(repo_root)))
    assert [p.render(repo_root) for p in problems] == []


def test_a_folder_is_validated_file_by_file_and_an_empty_one_is_refused(repo_root, capsys, monkeypatch):
    from mlops.cli import main

    monkeypatch.chdir(repo_root)
    assert main(["validate", "schedules", "pipelines/train.yml"]) == 0  # a folder and a file together
    checked = len(list((repo_root / "schedules").glob("*.yml")))
    assert capsys.readouterr().out.strip() == f"{checked + 1} file(s) valid"
    assert main(["validate", "docs"]) == 2
    assert "docs: no Azure ML YAML or MLTable files in this folder" in capsys.readouterr().err


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


@pytest.mark.parametrize("case", RUN_REFUSES, ids=list(RUN_REFUSES))
def test_validate_and_run_agree(miniproject, capsys, case):
    """The same problem, the same words: validate lists it (exit 1), a run refuses to start (exit 2, bad input)."""
    mutate, broken_file, expected = RUN_REFUSES[case]
    mutate(miniproject)
    assert main(["validate", broken_file]) == 1
    assert any(
        line.startswith(f"{broken_file}: ") and expected in line for line in capsys.readouterr().out.splitlines()
    )
    assert main(["pipeline", "run", broken_file]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {miniproject / broken_file}: ") and expected in err, err
    assert not list((miniproject.parent / "state").glob("runs/*")), "nothing may run"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("inputs.seed=-1", "jobs.prep.inputs.seed: -1 is below the minimum 0; jobs.train.inputs.seed: -1 is below"),
        ("inputs.test_size=nan", "jobs.prep.inputs.test_size: expected a finite number, got 'nan'"),
        ("inputs.test_size=0.9", "jobs.prep.inputs.test_size: 0.9 is above the maximum 0.5"),
    ],
)
def test_the_training_pipeline_refuses_out_of_range_overrides_before_any_step(
    repo_root, tmp_path, monkeypatch, capsys, override, expected
):
    """The repo's own pipeline: a --set outside the components' min/max (or not a finite number) is bad input."""
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
    assert main(["pipeline", "run", str(repo_root / "pipelines" / "train.yml"), "--set", override]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {repo_root / 'pipelines' / 'train.yml'}: ") and expected in err, err
    assert not list((tmp_path / "state").glob("runs/*")), "nothing may run"
