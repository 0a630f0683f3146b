"""A sweep (`type: sweep` job or pipeline step): its search space, sampling, objective and limits, and the trials
the local target runs.

Search space, as Azure ML defines it: `choice(values)`, `randint(upper)` (0 <= n < upper), `uniform` and
`quniform` (min_value, max_value[, q]), `loguniform` and `qloguniform` (exp of a uniform over min..max),
`normal`, `qnormal`, `lognormal`, `qlognormal` (mu, sigma[, q]); a q-variant rounds to a multiple of q.

Sampling: `grid` (every combination of `choice` values, in order; other types refused, as on Azure) and `random`
with an optional `seed` and `rule: random` (independent draws) or `rule: sobol` (a scrambled Sobol sequence, from
scipy). Each trial's point is a vector of uniform numbers mapped through each parameter's inverse distribution,
so both rules share one definition of the search space. `bayesian`: Optuna's TPE, on `choice`, `uniform` and
`quniform` only and without early termination, as on Azure; each trial is proposed from the results told so far.
`early_termination` is Azure's (`mlops.project.early_termination`), applied to the running trials' histories.

Objective: `primary_metric` (the name the trial logs with MLflow) and `goal` (maximize or minimize). Limits:
`max_total_trials` (required by azure-ai-ml), `max_concurrent_trials` (default: all; locally at most the cores),
`timeout` for the whole sweep and `trial_timeout` per trial, in seconds.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from mlops.errors import MlopsError
from mlops.project.early_termination import Policy

GOALS = ("maximize", "minimize")
UNIFORMS = ("uniform", "quniform", "loguniform", "qloguniform")
BAYESIAN_KINDS = ("choice", "uniform", "quniform")  # what Azure's bayesian sampling takes
NORMALS = ("normal", "qnormal", "lognormal", "qlognormal")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal, lognormal, qlognormal
    args: tuple[Any, ...]

    def value(self, u: float) -> Any:
        """The parameter's value at the uniform number u in [0, 1): its inverse distribution."""
        if self.kind == "choice":
            values = self.args[0]
            return values[min(int(u * len(values)), len(values) - 1)]
        if self.kind == "randint":
            return min(int(u * self.args[0]), self.args[0] - 1)
        if self.kind in UNIFORMS:
            low, high = self.args[0], self.args[1]
            value = low + u * (high - low)
        else:
            from scipy.stats import norm

            value = self.args[0] + self.args[1] * float(norm.ppf(min(max(u, 1e-12), 1 - 1e-12)))
        if self.kind in ("loguniform", "qloguniform", "lognormal", "qlognormal"):
            value = math.exp(value)
        if self.kind.startswith("q"):
            q = self.args[2]
            value = round(value / q) * q
        return value


@dataclass(frozen=True)
class Sweep:
    parameters: tuple[Parameter, ...]
    sampling: str
    rule: str
    seed: int | None
    primary_metric: str
    goal: str
    max_total_trials: int
    max_concurrent_trials: int
    timeout: float | None = None
    trial_timeout: float | None = None
    early_termination: Policy | None = None

    @classmethod
    def of(cls, entity: Any, where: str) -> Sweep:
        """From a loaded SweepJob or sweep step (`search_space`, `sampling_algorithm`, `objective`, `limits`)."""
        policy = getattr(entity, "early_termination", None)
        parameters = tuple(_parameter(name, space, where) for name, space in (entity.search_space or {}).items())
        if not parameters:
            raise MlopsError(f"{where}search_space: a sweep needs at least one parameter")
        algorithm = entity.sampling_algorithm
        sampling = str(getattr(algorithm, "type", algorithm) or "random").lower()
        if sampling not in ("random", "grid", "bayesian"):
            raise MlopsError(f"{where}sampling_algorithm: {sampling}; expected random, grid or bayesian")
        if sampling == "bayesian":
            if policy is not None:
                raise MlopsError(f"{where}early_termination: bayesian sampling takes no early termination (Azure)")
            odd = next((p for p in parameters if p.kind not in BAYESIAN_KINDS), None)
            if odd is not None:
                kinds = ", ".join(BAYESIAN_KINDS)
                raise MlopsError(f"{where}search_space.{odd.name}: bayesian sampling takes {kinds}, not {odd.kind}")
        if sampling == "grid" and any(p.kind != "choice" for p in parameters):
            odd = next(p for p in parameters if p.kind != "choice")
            raise MlopsError(f"{where}search_space.{odd.name}: grid sampling takes choice parameters only")
        objective, limits = entity.objective, entity.limits
        goal = str(getattr(objective, "goal", "") or "").lower()
        if goal not in GOALS or not getattr(objective, "primary_metric", None):
            raise MlopsError(f"{where}objective: expected primary_metric and goal (maximize or minimize)")
        total = getattr(limits, "max_total_trials", None)
        if not isinstance(total, int) or total < 1:
            raise MlopsError(f"{where}limits.max_total_trials: expected a whole number >= 1, got {total!r}")
        concurrent = getattr(limits, "max_concurrent_trials", None) or total
        return cls(
            parameters,
            sampling,
            str(getattr(algorithm, "rule", None) or "random").lower(),
            getattr(algorithm, "seed", None),
            str(objective.primary_metric),
            goal,
            total,
            max(1, min(int(concurrent), total, os.cpu_count() or 1)),
            _seconds(getattr(limits, "timeout", None)),
            _seconds(getattr(limits, "trial_timeout", None)),
            Policy.of(policy, where) if policy is not None else None,
        )

    def sampler(self) -> Sampler:
        """What proposes the trials: the whole list up front (random, grid), or Optuna's TPE (bayesian), which
        proposes each trial from the results told so far."""
        return Bayesian(self) if self.sampling == "bayesian" else Listed(self.trials())

    def trials(self) -> list[dict[str, Any]]:
        """The parameter values of every trial, in order (at most max_total_trials), for random and grid."""
        points = itertools.islice(self._points(), self.max_total_trials)
        return [dict(point) for point in points]

    def _points(self) -> Iterator[list[tuple[str, Any]]]:
        if self.sampling == "grid":
            for combination in itertools.product(*(p.args[0] for p in self.parameters)):
                yield [(p.name, value) for p, value in zip(self.parameters, combination, strict=True)]
            return
        for u in self._uniforms():
            yield [(p.name, p.value(x)) for p, x in zip(self.parameters, u, strict=True)]

    def _uniforms(self) -> Iterator[list[float]]:
        dims = len(self.parameters)
        if self.rule == "sobol":
            from scipy.stats import qmc

            sobol = qmc.Sobol(d=dims, scramble=True, seed=self.seed)
            while True:
                yield from (list(map(float, row)) for row in sobol.random(8))
        import numpy as np

        generator = np.random.default_rng(self.seed)
        while True:
            yield [float(x) for x in generator.random(dims)]

    def better(self, value: float, than: float | None) -> bool:
        if than is None:
            return True
        return value > than if self.goal == "maximize" else value < than


def _parameter(name: str, space: Any, where: str) -> Parameter:
    try:
        kind, args = space._to_rest_object()
    except Exception as exc:
        raise MlopsError(f"{where}search_space.{name}: not a search space expression ({exc})") from None
    kind = str(kind).lower()
    if kind == "choice":
        values = list(args[0])
        if not values or any(isinstance(v, dict | list) for v in values):
            raise MlopsError(f"{where}search_space.{name}: choice needs plain values (nested spaces run on Azure)")
        return Parameter(name, kind, (values,))
    if kind == "randint" and (not isinstance(args[0], int) or args[0] < 1):
        raise MlopsError(f"{where}search_space.{name}: randint needs an upper bound >= 1")
    if kind not in ("randint", *UNIFORMS, *NORMALS):
        raise MlopsError(f"{where}search_space.{name}: unknown type {kind}")
    return Parameter(name, kind, tuple(args))


def _seconds(value: Any) -> float | None:
    return float(value) if value else None


class Sampler(Protocol):
    """Proposes trials (`ask`, while `has_next`; `total` of them at most) and hears their results (`tell`: the
    trial's primary metric, None when it failed or logged none)."""

    total: int

    def has_next(self) -> bool: ...

    def ask(self) -> tuple[int, dict[str, Any]]: ...

    def tell(self, number: int, value: float | None) -> None: ...


class Listed:
    """Trials listed up front (random, grid): results change nothing."""

    def __init__(self, trials: list[dict[str, Any]]):
        self.pending = list(enumerate(trials, start=1))
        self.total = len(self.pending)

    def has_next(self) -> bool:
        return bool(self.pending)

    def ask(self) -> tuple[int, dict[str, Any]]:
        return self.pending.pop(0)

    def tell(self, number: int, value: float | None) -> None:
        return None


class Bayesian:
    def __init__(self, sweep: Sweep):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.sweep = sweep
        self.total = sweep.max_total_trials
        self.study = optuna.create_study(
            direction="maximize" if sweep.goal == "maximize" else "minimize",
            sampler=optuna.samplers.TPESampler(seed=sweep.seed),
        )
        self.asked: dict[int, Any] = {}

    def has_next(self) -> bool:
        return len(self.asked) < self.sweep.max_total_trials

    def ask(self) -> tuple[int, dict[str, Any]]:
        from optuna.distributions import CategoricalDistribution, FloatDistribution

        space = {
            p.name: CategoricalDistribution(p.args[0]) if p.kind == "choice" else FloatDistribution(*p.args[:2])
            for p in self.sweep.parameters
        }
        trial = self.study.ask(space)
        number = len(self.asked) + 1
        self.asked[number] = trial
        values = {}
        for p in self.sweep.parameters:
            value = trial.params[p.name]
            values[p.name] = round(value / p.args[2]) * p.args[2] if p.kind == "quniform" else value
        return number, values

    def tell(self, number: int, value: float | None) -> None:
        from optuna.trial import TrialState

        trial = self.asked[number]
        if value is None or not math.isfinite(value):
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, value)
