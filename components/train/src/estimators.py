"""Which scikit-learn estimator each `estimator` input means, which hyperparameters apply to it, and the
preprocessing pipeline around it.

Only the hyperparameters an estimator uses are passed to it (and logged): `c` means `C` for logistic regression
and `alpha = 1 / c` for linear regression (Ridge); an unset `max_depth` keeps the estimator's own default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from tabular_common.errors import DataError

HYPERPARAMETERS = ("c", "max_iter", "n_estimators", "max_depth", "learning_rate", "min_samples_leaf", "seed")

# Types skops must trust to load these pipelines: numpy dtypes (kept by the imputers and the encoder) and the
# tree structure of the forest and boosting models. Both are plain data, not code.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


@dataclass(frozen=True)
class EstimatorKind:
    classes: Mapping[str, type]  # task -> scikit-learn class
    params: Mapping[str, str]  # component input -> scikit-learn parameter


ESTIMATORS: dict[str, EstimatorKind] = {
    "logistic_regression": EstimatorKind(
        {"classification": LogisticRegression}, {"c": "C", "max_iter": "max_iter", "seed": "random_state"}
    ),
    "linear_regression": EstimatorKind({"regression": Ridge}, {"c": "alpha"}),
    "random_forest": EstimatorKind(
        {"classification": RandomForestClassifier, "regression": RandomForestRegressor},
        {
            "n_estimators": "n_estimators",
            "max_depth": "max_depth",
            "min_samples_leaf": "min_samples_leaf",
            "seed": "random_state",
        },
    ),
    "gradient_boosting": EstimatorKind(
        {"classification": GradientBoostingClassifier, "regression": GradientBoostingRegressor},
        {
            "n_estimators": "n_estimators",
            "max_depth": "max_depth",
            "learning_rate": "learning_rate",
            "min_samples_leaf": "min_samples_leaf",
            "seed": "random_state",
        },
    ),
}

# (check, expectation) per hyperparameter; checked only for the ones the estimator uses.
_RANGES = {
    "c": (lambda v: v > 0, "a number > 0"),
    "max_iter": (lambda v: v >= 1, "an integer >= 1"),
    "n_estimators": (lambda v: v >= 1, "an integer >= 1"),
    "max_depth": (lambda v: v >= 1, "an integer >= 1"),
    "learning_rate": (lambda v: v > 0, "a number > 0"),
    "min_samples_leaf": (lambda v: v >= 1, "an integer >= 1"),
    "seed": (lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)"),
}


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
    used = {name: values[name] for name in kind.params if values.get(name) is not None}
    for name, value in used.items():
        check, expected = _RANGES[name]
        if not check(value):
            raise DataError(f"{name}: {value} is not valid for {estimator}; expected {expected}")
    return used


def build_estimator(estimator: str, task: str, values: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(unfitted scikit-learn estimator, the hyperparameters it received by input name)."""
    kind = estimator_kind(estimator, task)
    used = applicable_hyperparameters(estimator, task, values)
    kwargs = {kind.params[name]: value for name, value in used.items()}
    if estimator == "linear_regression" and "alpha" in kwargs:
        kwargs["alpha"] = 1.0 / kwargs["alpha"]  # c is an inverse regularisation strength, like C
    return kind.classes[task](**kwargs), used


def build_pipeline(numeric: Sequence[str], categorical: Sequence[str], estimator: Any) -> Pipeline:
    """Impute + scale numeric columns, impute + one-hot encode categorical columns, then the estimator."""
    transformers = []
    if numeric:
        numeric_steps = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        transformers.append(("numeric", numeric_steps, list(numeric)))
    if categorical:
        categorical_steps = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("encode", OneHotEncoder(handle_unknown="ignore")),
            ]
        )
        transformers.append(("categorical", categorical_steps, list(categorical)))
    preprocess = ColumnTransformer(transformers, remainder="drop")
    return Pipeline([("preprocess", preprocess), ("model", estimator)])
