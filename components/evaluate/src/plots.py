"""Evaluation plots as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tabular_common.metrics import positive_index


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def classification_plots(
    y_true: Any,
    y_pred: Any,
    proba: np.ndarray | None,
    classes: Sequence[Any],
    folder: Path,
    positive_label: Any = None,
) -> list[Path]:
    """confusion_matrix.png, and roc_curve.png when probabilities exist and the test split has 2+ classes."""
    from sklearn.metrics import ConfusionMatrixDisplay, roc_curve

    plt = _pyplot()
    written = []
    fig, ax = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(classes), ax=ax, colorbar=False)
    ax.set_title("Confusion matrix (test split)")
    written.append(_save(fig, folder / "confusion_matrix.png"))
    y_true = np.asarray(y_true)
    if proba is not None and len(np.unique(y_true)) > 1:
        fig, ax = plt.subplots(figsize=(5, 4))
        shown = [classes[positive_index(classes, positive_label)]] if len(classes) == 2 else list(classes)
        for label in shown:
            column = list(classes).index(label)
            if not (y_true == label).any():
                continue
            fpr, tpr, _ = roc_curve(y_true == label, proba[:, column])
            ax.plot(fpr, tpr, label=f"class {label}")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve (test split)")
        ax.legend(loc="lower right")
        written.append(_save(fig, folder / "roc_curve.png"))
    return written


def regression_plots(y_true: Any, y_pred: Any, folder: Path) -> list[Path]:
    plt = _pyplot()
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(y_true, y_pred, s=10, alpha=0.6)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1)
    ax.set(xlabel="Actual", ylabel="Predicted", title="Predicted vs actual (test split)")
    return [_save(fig, folder / "predicted_vs_actual.png")]


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
