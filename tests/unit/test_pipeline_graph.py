"""The step graph of a pipeline: the cycle message names only the steps on the cycle, in data-flow order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops.errors import MlopsError
from mlops.project.pipeline import Step, StepOutput, _execution_order, dependency_cycle


def test_a_cycle_of_three_in_data_flow_order():
    # b reads a, c reads b, a reads c.
    assert dependency_cycle({"a": {"c"}, "b": {"a"}, "c": {"b"}}) == ["a", "b", "c", "a"]


def test_steps_waiting_on_the_cycle_are_left_out():
    # "report" and "publish" wait on the cycle b <-> c but are not on it; the walk starts at "report".
    upstream = {"report": {"c"}, "b": {"c"}, "c": {"b"}, "publish": {"report", "b"}}
    assert dependency_cycle(upstream) == ["b", "c", "b"]


def test_the_cycle_starts_at_the_step_listed_first():
    assert dependency_cycle({"z": {"y"}, "x": {"z"}, "y": {"x"}}) == ["z", "x", "y", "z"]


def test_a_step_reading_its_own_output():
    assert dependency_cycle({"loop": {"loop"}}) == ["loop", "loop"]


def test_steps_already_placed_are_not_followed():
    # "prep" ran already (it is not waiting); b and c wait on each other.
    assert dependency_cycle({"b": {"prep", "c"}, "c": {"b"}}) == ["b", "c", "b"]


def test_with_two_cycles_one_is_reported_whole():
    upstream = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}
    assert dependency_cycle(upstream) == ["a", "b", "a"]


def step(name: str, *reads: str) -> Step:
    return Step(name, SimpleNamespace(), Path(f"{name}.yml"), {f"in_{r}": StepOutput(r, "out") for r in reads})


def test_execution_order_names_the_cycle_and_only_it():
    steps = {
        s.name: s for s in [step("prep"), step("train", "prep", "tune"), step("tune", "train"), step("report", "tune")]
    }
    with pytest.raises(MlopsError) as raised:
        _execution_order(Path("pipelines/p.yml"), steps)
    message = str(raised.value)
    assert message.startswith("pipelines/p.yml: jobs: the steps depend on each other in a cycle")
    assert message.endswith(": train -> tune -> train")
    assert "report" not in message and "prep" not in message


def test_execution_order_without_a_cycle_puts_dependencies_first():
    steps = {s.name: s for s in [step("report", "train"), step("train", "prep"), step("prep")]}
    assert _execution_order(Path("p.yml"), steps) == ["prep", "train", "report"]
