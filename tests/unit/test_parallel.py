"""A parallel step's settings, read from the step and its component as Azure does (mlops.project.parallel)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mlops.errors import MlopsError
from mlops.project.parallel import DEFAULT_APPEND_ROW_FILE_NAME, Parallel


def component(**changes):
    task = SimpleNamespace(
        type="run_function", entry_script="score.py", program_arguments="--k ${{inputs.k}}", append_row_to=None
    )
    base = {
        "inputs": {"files": SimpleNamespace(type="uri_folder"), "k": SimpleNamespace(type="integer")},
        "outputs": {"rows": SimpleNamespace(type="uri_folder")},
        "input_data": "${{inputs.files}}",
        "task": task,
        "mini_batch_size": None,
        "retry_settings": None,
        "error_threshold": None,
        "mini_batch_error_threshold": None,
        "environment_variables": None,
    }
    return SimpleNamespace(**(base | changes))


NODE = SimpleNamespace()


def test_defaults_are_the_yaml_references() -> None:
    plan = Parallel.of(NODE, component(), "")
    assert (plan.mini_batch_size, plan.max_retries, plan.timeout) == (1, 2, 60.0)
    assert (plan.error_threshold, plan.mini_batch_error_threshold, plan.append_row_to) == (-1, -1, None)


def test_the_step_wins_over_the_component() -> None:
    node = SimpleNamespace(mini_batch_size=3, error_threshold=5, retry_settings={"max_retries": 0, "timeout": 9})
    plan = Parallel.of(node, component(mini_batch_size=10, error_threshold=1), "")
    assert (plan.mini_batch_size, plan.error_threshold, plan.max_retries, plan.timeout) == (3, 5, 0, 9.0)


def test_append_row_file_name_comes_from_the_program_arguments() -> None:
    task = SimpleNamespace(
        type="run_function", entry_script="s.py", program_arguments="", append_row_to="${{outputs.rows}}"
    )
    plan = Parallel.of(NODE, component(task=task), "")
    assert plan.append_row_to == "rows"
    assert plan.arguments("--a 1") == (["--a", "1"], DEFAULT_APPEND_ROW_FILE_NAME)
    assert plan.arguments("--append_row_file_name out.csv --a 1")[1] == "out.csv"


@pytest.mark.parametrize(
    ("changes", "written", "message"),
    [
        ({"input_data": "${{inputs.nope}}"}, None, r"x\.input_data: expected \$\{\{inputs\.<name>\}\}"),
        ({"inputs": {"files": SimpleNamespace(type="mltable")}}, None, r"x\.inputs\.files: type mltable"),
        ({}, "10mb", r"x\.mini_batch_size: '10mb'; locally a mini batch is a number of files"),
        ({"mini_batch_size": 0}, None, r"x\.mini_batch_size: 0"),
        ({"error_threshold": -2}, None, r"x\.error_threshold: expected at least -1, got -2"),
        ({"task": SimpleNamespace(type="model")}, None, r"x\.task\.type: 'model'; the local target runs run_function"),
    ],
)
def test_what_the_local_target_cannot_run_is_refused_naming_the_field(changes, written, message) -> None:
    with pytest.raises(MlopsError, match=message):
        Parallel.of(NODE, component(**changes), "x.", written)
