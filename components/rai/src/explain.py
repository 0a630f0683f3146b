"""Model explanations: which features the model relies on, globally and for single rows.

Global, on the model itself: permutation importance (how much the score drops when one column's values are
shuffled; the score is ROC AUC of the positive class for binary models, accuracy for multiclass, r2 for
regression). Global and local, through a glass-box surrogate: an Explainable Boosting Machine (interpret-core) fitted
to the model's own predictions on the same rows, whose per-feature terms add up to its prediction; its fidelity
(how often it agrees with the model, or r2 against the model's predictions) says how far to trust it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd


def score_function(task: str, classes: list[Any], positive: Any) -> Any:
    """score(model, X, y): higher is better, the model's own positive class for binary ROC AUC."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "regression":
        return lambda model, x, y: r2_score(y, model.predict(x))
    if len(classes) == 2:
        index = classes.index(positive)
        return lambda model, x, y: roc_auc_score(np.asarray(y) == positive, model.predict_proba(x)[:, index])
    return lambda model, x, y: accuracy_score(y, model.predict(x))


def permutation_ranking(
    model: Any, features: pd.DataFrame, target: pd.Series, scorer: Any, seed: int, repeats: int = 5
) -> list[dict[str, Any]]:
    """[{feature, importance, std}] by importance, highest first (the drop in score when the column is shuffled)."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, features, target, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1
    )
    rows = [
        {"feature": str(name), "importance": float(mean), "std": float(std)}
        for name, mean, std in zip(features.columns, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda row: row["importance"], reverse=True)


def surrogate(model: Any, features: pd.DataFrame, task: str, seed: int, local_rows: int) -> dict[str, Any]:
    """An EBM fitted to the model's predictions: its fidelity, global term importances and, for the first
    `local_rows` rows, each feature's contribution to the surrogate's score (log-odds or the regression value)."""
    from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor

    predicted = model.predict(features)
    kind = ExplainableBoostingRegressor if task == "regression" else ExplainableBoostingClassifier
    ebm = kind(interactions=0, outer_bags=1, random_state=seed, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its note that missing values are not drawn in its own plots
        ebm.fit(features, predicted)
    mimic = ebm.predict(features)
    if task == "regression":
        from sklearn.metrics import r2_score

        fidelity, fidelity_kind = float(r2_score(predicted, mimic)), "r2 against the model's predictions"
    else:
        fidelity, fidelity_kind = float(np.mean(mimic == predicted)), "share of rows where it predicts as the model"
    importances = sorted(
        (
            {"feature": str(n), "importance": float(v)}
            for n, v in zip(ebm.term_names_, ebm.term_importances(), strict=True)
        ),
        key=lambda row: row["importance"],
        reverse=True,
    )
    local = []
    explained = ebm.explain_local(features.head(local_rows))
    classes = list(getattr(ebm, "classes_", []))
    for index in range(min(local_rows, len(features))):
        data = explained.data(index)
        # Multiclass: each term scores every class; the row's contributions are those toward the class it got.
        pick = classes.index(mimic[index]) if len(classes) > 2 else None
        contributions = sorted(
            (
                {"feature": str(n), "value": _plain(v), "contribution": _score(s, pick)}
                for n, v, s in zip(data["names"], data["values"], data["scores"], strict=True)
            ),
            key=lambda row: abs(row["contribution"]),
            reverse=True,
        )
        local.append(
            {
                "row": int(index),
                "model_prediction": _plain(predicted[index]),
                "intercept": _score(data["extra"]["scores"][0], pick),
                "contributions": contributions,
            }
        )
    return {"fidelity": fidelity, "fidelity_kind": fidelity_kind, "global": importances, "local": local}


def _score(score: Any, pick: int | None) -> float:
    return float(np.asarray(score)[pick]) if pick is not None else float(score)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value
