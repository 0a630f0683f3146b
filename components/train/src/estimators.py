"""The one table of estimators: what each `estimator` input means (scikit-learn class per task), which
component inputs (hyperparameters) it takes and as which scikit-learn parameter, and the preprocessing around it.

Nothing else lists hyperparameters: train.py declares its hyperparameter flags from `HYPERPARAMETERS`, and a
test checks the table against the component's inputs. Their defaults live in component.yml only. Only the
hyperparameters an estimator takes are passed to it (and logged); `c` is an inverse regularisation strength, so
linear regression (Ridge) gets `alpha = 1 / c`; an unset optional one (`max_depth`) keeps the estimator's default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from tabular_common.errors import DataError
from tabular_common.features import build_preprocessor

# Types skops must trust to load these pipelines: numpy dtypes (kept by the imputers and the encoder) and the
# tree structure of the forest and boosting models. Both are plain data, not code.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


@dataclass(frozen=True)
class Hyperparameter:
    """A component input that estimators take: its argparse type, whether it may be absent, its valid range."""

    name: str
    type: type
    valid: Callable[[Any], bool]
    expected: str  # what `valid` accepts, for the error message
    optional: bool = False  # an `optional: true` input (absent = the estimator's own default)


C = Hyperparameter("c", float, lambda v: v > 0, "a number > 0")
MAX_ITER = Hyperparameter("max_iter", int, lambda v: v >= 1, "an integer >= 1")
N_ESTIMATORS = Hyperparameter("n_estimators", int, lambda v: v >= 1, "an integer >= 1")
MAX_DEPTH = Hyperparameter("max_depth", int, lambda v: v >= 1, "an integer >= 1", optional=True)
LEARNING_RATE = Hyperparameter("learning_rate", float, lambda v: v > 0, "a number > 0")
MIN_SAMPLES_LEAF = Hyperparameter("min_samples_leaf", int, lambda v: v >= 1, "an integer >= 1")
SEED = Hyperparameter("seed", int, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)")


def _inverse(value: float) -> float:
    return 1.0 / value


@dataclass(frozen=True)
class EstimatorKind:
    classes: Mapping[str, type]  # task -> scikit-learn class
    params: Mapping[Hyperparameter, str]  # hyperparameter -> scikit-learn parameter
    convert: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)  # hyperparameter name -> value map


TREES = {N_ESTIMATORS: "n_estimators", MAX_DEPTH: "max_depth", MIN_SAMPLES_LEAF: "min_samples_leaf"}

ESTIMATORS: dict[str, EstimatorKind] = {
    "logistic_regression": EstimatorKind(
        {"classification": LogisticRegression}, {C: "C", MAX_ITER: "max_iter", SEED: "random_state"}
    ),
    "linear_regression": EstimatorKind({"regression": Ridge}, {C: "alpha"}, convert={"c": _inverse}),
    "random_forest": EstimatorKind(
        {"classification": RandomForestClassifier, "regression": RandomForestRegressor},
        {**TREES, SEED: "random_state"},
    ),
    "gradient_boosting": EstimatorKind(
        {"classification": GradientBoostingClassifier, "regression": GradientBoostingRegressor},
        {**TREES, LEARNING_RATE: "learning_rate", SEED: "random_state"},
    ),
}

# Every hyperparameter some estimator takes, in first-use order (derived from the table, never listed by hand).
HYPERPARAMETERS: tuple[Hyperparameter, ...] = tuple(
    dict.fromkeys(parameter for kind in ESTIMATORS.values() for parameter in kind.params)
)


def estimator_kind(estimator: str, task: str) -> EstimatorKind:
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: '{estimator}' is not supported; expected one of {', '.join(ESTIMATORS)}")
    kind = ESTIMATORS[estimator]
    if task not in kind.classes:
        usable = [name for name, other in ESTIMATORS.items() if task in other.classes]
        raise DataError(
            f"estimator '{estimator}' cannot be used for task '{task}'; for {task} use one of: {', '.join(usable)}"
        )
    return kind


def applicable_hyperparameters(estimator: str, task: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters (by input name) that `estimator` uses, without unset ones; range-checked."""
    kind = estimator_kind(estimator, task)
    used = {}
    for parameter in kind.params:
        value = values.get(parameter.name)
        if value is None:
            continue
        if not parameter.valid(value):
            raise DataError(f"{parameter.name}: {value} is not valid for {estimator}; expected {parameter.expected}")
        used[parameter.name] = value
    return used


def build_estimator(estimator: str, task: str, values: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(unfitted scikit-learn estimator, the hyperparameters it received by input name)."""
    kind = estimator_kind(estimator, task)
    used = applicable_hyperparameters(estimator, task, values)
    kwargs = {
        sklearn_name: kind.convert.get(parameter.name, _same)(used[parameter.name])
        for parameter, sklearn_name in kind.params.items()
        if parameter.name in used
    }
    return kind.classes[task](**kwargs), used


def _same(value: Any) -> Any:
    return value


def build_pipeline(numeric: Sequence[str], categorical: Sequence[str], estimator: Any) -> Pipeline:
    """The template's preprocessing (tabular_common.features), then the estimator."""
    return Pipeline([("preprocess", build_preprocessor(numeric, categorical)), ("model", estimator)])
