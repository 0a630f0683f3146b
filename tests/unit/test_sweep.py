"""Sampling a sweep's search space as Azure ML defines it (mlops.project.sweep)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from azure.ai.ml.sweep import Choice, LogUniform, Normal, QUniform, Randint, Uniform

from mlops.errors import MlopsError
from mlops.project.sweep import Parameter, Sweep


def sweep(space, sampling="random", total=20, **limits):
    algorithm = SimpleNamespace(**sampling) if isinstance(sampling, dict) else sampling
    return Sweep.of(
        SimpleNamespace(
            search_space=space,
            sampling_algorithm=algorithm,
            objective=SimpleNamespace(primary_metric="score", goal="maximize"),
            limits=SimpleNamespace(max_total_trials=total, max_concurrent_trials=limits.get("concurrent")),
            early_termination=limits.get("early_termination"),
        ),
        "x.",
    )


def test_random_sampling_stays_in_each_range_and_repeats_with_its_seed() -> None:
    space = {
        "lr": LogUniform(min_value=math.log(1e-4), max_value=math.log(1e-1)),
        "n": Randint(upper=5),
        "units": QUniform(min_value=8, max_value=64, q=8),
        "kind": Choice(values=["a", "b"]),
    }
    first = sweep(space, {"type": "random", "seed": 3, "rule": None}).trials()
    assert first == sweep(space, {"type": "random", "seed": 3, "rule": None}).trials()
    assert first != sweep(space, {"type": "random", "seed": 4, "rule": None}).trials()
    assert len(first) == 20
    for trial in first:
        assert 1e-4 <= trial["lr"] <= 1e-1 and trial["n"] in range(5) and trial["kind"] in ("a", "b")
        assert trial["units"] % 8 == 0 and 8 <= trial["units"] <= 64


def test_sobol_covers_the_space_evenly() -> None:
    sobol = {"type": "random", "seed": 1, "rule": "sobol"}
    trials = sweep({"u": Uniform(min_value=0, max_value=1)}, sobol, 16).trials()
    assert sorted(int(t["u"] * 4) for t in trials) == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4  # 4 per quarter


def test_grid_is_every_combination_in_order_up_to_the_limit() -> None:
    space = {"a": Choice(values=[1, 2]), "b": Choice(values=["x", "y"])}
    assert sweep(space, "grid").trials() == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert len(sweep(space, "grid", total=3).trials()) == 3


def test_inverse_distributions() -> None:
    assert Parameter("n", "normal", (10.0, 2.0)).value(0.5) == pytest.approx(10.0)
    assert Parameter("q", "qnormal", (10.0, 2.0, 5)).value(0.9) == 15  # 12.56: the nearest multiple of 5
    assert Parameter("l", "lognormal", (0.0, 1.0)).value(0.5) == pytest.approx(1.0)
    assert Parameter("r", "randint", (3,)).value(0.999) == 2
    assert sweep({"n": Normal(mu=0, sigma=1)}).max_concurrent_trials >= 1


@pytest.mark.parametrize(
    ("space", "sampling", "extra", "message"),
    [
        ({"u": Uniform(min_value=0, max_value=1)}, "grid", {}, r"x\.search_space\.u: grid sampling takes choice"),
        ({"n": Normal(mu=0, sigma=1)}, "bayesian", {}, r"x\.search_space\.n: bayesian sampling takes choice, unif"),
        (
            {"u": Uniform(min_value=0, max_value=1)},
            "bayesian",
            {"early_termination": SimpleNamespace(type="bandit", slack_factor=0.1)},
            r"x\.early_termination: bayesian sampling takes no early termination",
        ),
        ({"u": Uniform(min_value=0, max_value=1)}, "hyperband", {}, r"x\.sampling_algorithm: hyperband; expected"),
        ({}, "random", {}, r"x\.search_space: a sweep needs at least one parameter"),
        ({"u": Uniform(min_value=0, max_value=1)}, "random", {"early_termination": object()}, r"early_termination"),
    ],
)
def test_what_the_local_target_does_not_run_is_refused_naming_the_field(space, sampling, extra, message) -> None:
    with pytest.raises(MlopsError, match=message):
        sweep(space, sampling, **extra)


def test_bayesian_proposes_each_trial_after_hearing_the_last() -> None:
    """Optuna's TPE behind ask/tell: values within the space, quniform rounded, failed trials told as failures."""
    space = {"lr": Uniform(min_value=0.01, max_value=0.1), "units": QUniform(min_value=8, max_value=64, q=8)}
    space["kind"] = Choice(values=["a", "b"])
    plan = sweep(space, "bayesian", total=5)
    sampler = plan.sampler()
    seen = []
    while sampler.has_next():
        number, params = sampler.ask()
        seen.append(number)
        assert 0.01 <= params["lr"] <= 0.1 and params["units"] % 8 == 0 and params["kind"] in ("a", "b")
        sampler.tell(number, None if number == 2 else params["lr"])
    assert seen == [1, 2, 3, 4, 5]
    states = [t.state.name for t in sampler.study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]


def test_random_and_grid_list_their_trials_up_front() -> None:
    sampler = sweep({"a": Choice(values=[1, 2])}, "grid").sampler()
    assert [sampler.ask() for _ in range(2)] == [(1, {"a": 1}), (2, {"a": 2})] and not sampler.has_next()
