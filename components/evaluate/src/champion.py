"""Find the registered champion and score it on the candidate's test split.

A champion that cannot be loaded, or cannot score the data (other columns, another task, a broken artifact), is
not a crash: it is recorded as the reason the comparison failed, and the gate decides what that means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tabular_common.metrics import score_model
from tabular_common.registry import search_versions, select_champion
from tabular_common.schema import prepare_features


@dataclass
class ChampionResult:
    version: str | None = None  # None: no champion
    metrics: dict[str, float] | None = None
    error: str | None = None  # set when the champion exists but could not be evaluated


def find_champion(client: Any, model_name: str) -> Any | None:
    """The champion model version of `model_name`, or None."""
    return select_champion(search_versions(client, model_name))


def load_registered(model_name: str, version: str) -> tuple[Any, dict[str, Any]]:
    """(scikit-learn model, MLmodel metadata) of a registered version."""
    import mlflow.sklearn
    from mlflow.models import get_model_info

    uri = f"models:/{model_name}/{version}"
    metadata = get_model_info(uri).metadata or {}
    return mlflow.sklearn.load_model(uri), metadata


def score_champion(
    client: Any,
    model_name: str,
    test: pd.DataFrame,
    target: pd.Series,
    task: str,
    fallback_features: tuple[list[str], list[str]],
    positive_label: Any = None,
    loader: Callable[[str, str], tuple[Any, dict[str, Any]]] = load_registered,
) -> ChampionResult:
    """Metrics of the champion on the same test rows as the candidate, with the candidate's positive class (binary):
    a champion whose classes do not include it cannot be compared."""
    version = find_champion(client, model_name)
    if version is None:
        return ChampionResult()
    number = str(version.version)
    try:
        model, metadata = loader(model_name, number)
    except Exception as exc:  # any load failure is a reason, not a crash
        return ChampionResult(number, error=f"loading failed ({_one_line(exc)})")
    champion_task = metadata.get("task", task)
    if champion_task != task:
        return ChampionResult(number, error=f"it is a {champion_task} model, the candidate is {task}")
    numeric = list(metadata.get("numeric_features", fallback_features[0]))
    categorical = list(metadata.get("categorical_features", fallback_features[1]))
    try:
        features = prepare_features(test, numeric, categorical, source="test data")
        return ChampionResult(number, metrics=score_model(model, features, target, task, positive_label))
    except Exception as exc:
        return ChampionResult(number, error=f"scoring the test split failed ({_one_line(exc)})")


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
