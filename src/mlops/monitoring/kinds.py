"""The registry of signal kinds: one entry per Azure ML signal type holds everything the local monitor does with it.

An entry names how the type's YAML block is read (settings.py), how the signal is computed (signals.py), which way
each of its metrics alerts, what its `reference_data` is, how the report draws it and whether it counts towards
retraining. The loader, `reference_assets` and the runner look signals up here (the runner copies the directions
and the plot kind into the result, which the report renders as it is), so adding a signal type is one entry plus
its compute function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mlops.monitoring import signals
from mlops.monitoring.results import ABOVE, BELOW, DISTRIBUTIONS, SignalResult
from mlops.monitoring.settings import (
    ATTRIBUTION_METRIC,
    QUALITY_METRICS,
    MonitorConfig,
    SignalBlock,
    SignalConfig,
    parse_attribution,
    parse_drift,
    parse_performance,
    parse_quality,
)

# What a signal's `reference_data` is.
REFERENCE = "reference"  # the data production is compared with (for this template the training data)
GROUND_TRUTH = "ground_truth"  # the actual outcomes the predictions are scored against

# Valid on Azure, not computed by the local monitor (they run a custom component or call an LLM).
AZURE_ONLY_SIGNAL_TYPES = ("custom", "generation_safety_quality", "generation_token_statistics")

Compute = Callable[[SignalConfig, MonitorConfig, signals.WindowData, SignalResult], None]


@dataclass(frozen=True)
class SignalKind:
    """Everything the local monitor does with one signal type."""

    name: str
    parse: Callable[[SignalBlock], SignalConfig]
    # fills the SignalResult with one FeatureResult per feature (or one for the signal), or marks it skipped
    compute: Compute
    # metric -> ABOVE (alert when value > threshold) or BELOW; every metric `compute` reports needs one
    directions: Mapping[str, str]
    reference_role: str = REFERENCE
    # how the report draws breached features: DISTRIBUTIONS, or None for the tables only
    plot: str | None = None
    # counts towards the retrain rule when the YAML names no mlops.retrain.signals
    retrains: bool = True


DRIFT_DIRECTIONS = {
    "jensen_shannon_distance": ABOVE,
    "normalized_wasserstein_distance": ABOVE,
    "population_stability_index": ABOVE,
    # p-values: a small one means the two samples differ
    "two_sample_kolmogorov_smirnov_test": BELOW,
    "pearsons_chi_squared_test": BELOW,
}
PERFORMANCE_DIRECTIONS = {
    "accuracy": BELOW,
    "precision": BELOW,
    "recall": BELOW,
    "mae": ABOVE,
    "mse": ABOVE,
    "rmse": ABOVE,
}

# In the order Azure's documentation lists them (error messages name them in this order).
SIGNAL_KINDS: dict[str, SignalKind] = {
    kind.name: kind
    for kind in (
        SignalKind("data_drift", parse_drift, signals.data_drift, DRIFT_DIRECTIONS, plot=DISTRIBUTIONS),
        SignalKind("prediction_drift", parse_drift, signals.prediction_drift, DRIFT_DIRECTIONS, plot=DISTRIBUTIONS),
        # broken input data needs a pipeline fix, not a new model
        SignalKind(
            "data_quality", parse_quality, signals.data_quality, dict.fromkeys(QUALITY_METRICS, ABOVE), retrains=False
        ),
        SignalKind(
            "feature_attribution_drift",
            parse_attribution,
            signals.feature_attribution_drift,
            {ATTRIBUTION_METRIC: BELOW},
        ),
        SignalKind(
            "model_performance",
            parse_performance,
            signals.model_performance,
            PERFORMANCE_DIRECTIONS,
            reference_role=GROUND_TRUTH,
        ),
    )
}


def alert_direction(metric: str) -> str:
    """ABOVE or BELOW: which way `metric` alerts, in whichever kind reports it."""
    for kind in SIGNAL_KINDS.values():
        if metric in kind.directions:
            return kind.directions[metric]
    raise KeyError(f"no signal kind reports the metric {metric}")
