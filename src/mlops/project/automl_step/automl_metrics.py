"""Azure AutoML's primary metrics, computed as Azure ML's documentation defines them, for the local AutoML search.

Classification metrics take the true labels encoded 0..k-1 and the class probabilities (n x k); regression metrics
take true and predicted values. Normalised errors divide by the range of the true values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)


def auc_weighted(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 2:  # one-vs-rest AUC is the same for both classes: their weighted mean is that AUC
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, average="weighted", multi_class="ovr", labels=range(proba.shape[1])))


def accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    return float(accuracy_score(y, proba.argmax(axis=1)))


def norm_macro_recall(y: np.ndarray, proba: np.ndarray) -> float:
    """Macro recall rescaled so that random guessing scores 0 and a perfect model 1: (R - 1/k) / (1 - 1/k)."""
    chance = 1.0 / proba.shape[1]
    recall = recall_score(y, proba.argmax(axis=1), average="macro", labels=range(proba.shape[1]), zero_division=0)
    return float((recall - chance) / (1.0 - chance))


def average_precision_score_weighted(y: np.ndarray, proba: np.ndarray) -> float:
    onehot = np.eye(proba.shape[1])[y]
    return float(average_precision_score(onehot, proba, average="weighted"))


def precision_score_weighted(y: np.ndarray, proba: np.ndarray) -> float:
    return float(precision_score(y, proba.argmax(axis=1), average="weighted", zero_division=0))


def spearman_correlation(y: np.ndarray, predicted: np.ndarray) -> float:
    value = spearmanr(y, predicted).statistic
    return 0.0 if np.isnan(value) else float(value)


def _range(y: np.ndarray) -> float:
    spread = float(np.max(y) - np.min(y))
    return spread if spread > 0 else 1.0


def normalized_root_mean_squared_error(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(predicted)) ** 2)) / _range(y))


def normalized_mean_absolute_error(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(mean_absolute_error(y, predicted) / _range(y))


def r2(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(r2_score(y, predicted))


# Azure's name -> (function, higher is better). The names and directions match mlops.project.automl.METRICS.
CLASSIFICATION: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "AUC_weighted": (auc_weighted, True),
    "accuracy": (accuracy, True),
    "norm_macro_recall": (norm_macro_recall, True),
    "average_precision_score_weighted": (average_precision_score_weighted, True),
    "precision_score_weighted": (precision_score_weighted, True),
}
REGRESSION: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
    "spearman_correlation": (spearman_correlation, True),
    "normalized_root_mean_squared_error": (normalized_root_mean_squared_error, False),
    "r2_score": (r2, True),
    "normalized_mean_absolute_error": (normalized_mean_absolute_error, False),
}
