"""What monitor.yml says, as frozen data, and the readers of each signal type's YAML block.

Thresholds are interpreted the way azure-ai-ml sends them to Azure:

- drift signals (data_drift, prediction_drift): azure-ai-ml 1.35 sends ONE metric per feature type — the first
  one set (non-zero) in the order below — and drops the rest. The local monitor evaluates the same one and
  reports the others as warnings; it still computes and reports every drift metric, without a threshold.
- data_quality: all three rates per feature type are sent.
- omitted `metric_thresholds`: the SDK defaults (numerical normalized Wasserstein 0.1, categorical
  Jensen-Shannon 0.1; data-quality rates 0.0).

Keys Azure uses and the local monitor does not (data_context, data_window, pre_processing_component,
endpoint_deployment_id, alert_notification) are accepted and not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.metrics import CATEGORICAL, COLUMN_TYPES, NUMERICAL

# azure-ai-ml's order when it picks the one drift metric per feature type it sends.
DRIFT_METRICS = {
    NUMERICAL: (
        "jensen_shannon_distance",
        "normalized_wasserstein_distance",
        "population_stability_index",
        "two_sample_kolmogorov_smirnov_test",
    ),
    CATEGORICAL: ("jensen_shannon_distance", "population_stability_index", "pearsons_chi_squared_test"),
}
QUALITY_METRICS = ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate")
PERFORMANCE_METRICS = {"classification": ("accuracy", "precision", "recall"), "regression": ("mae", "mse", "rmse")}
ATTRIBUTION_METRIC = "normalized_discounted_cumulative_gain"

SDK_DEFAULT_DRIFT = {NUMERICAL: {"normalized_wasserstein_distance": 0.1}, CATEGORICAL: {"jensen_shannon_distance": 0.1}}
SDK_DEFAULT_QUALITY = dict.fromkeys(QUALITY_METRICS, 0.0)

# How much data a window needs (local-only; the schedule's properties, read by config.py; monitoring/README.md,
# "Small, partial and malformed windows"). Azure ML's monitor schema has no such settings.
MIN_WINDOW_ROWS = "mlops.min_window_rows"  # `mlops.min_window_rows.<signal name>` sets one signal's
MIN_PREDICTION_COVERAGE = "mlops.min_prediction_coverage"
MAX_MALFORMED_SHARE = "mlops.max_malformed_share"
# Below this many rows a signal is "not enough data": 30 is the smallest window of the own-data tables `mlops init`
# splits off (wine: 36 rows) and the usual floor for a sample statistic; a 1-row window breaches nothing.
DEFAULT_MIN_WINDOW_ROWS = 30
# Below this share of the window's input rows with a prediction, the prediction-based signals are "not enough data".
DEFAULT_MIN_PREDICTION_COVERAGE = 0.9
# More than this share of a collection's JSON lines malformed (at least 2 lines, unless it is 0): the window is refused.
DEFAULT_MAX_MALFORMED_SHARE = 0.01


@dataclass(frozen=True)
class DataBinding:
    """One `production_data` / `reference_data` entry: the asset and its `data_column_names` (the caller resolves
    the asset to a frame)."""

    path: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> DataBinding:
        if not isinstance(raw, dict):
            return cls()
        return cls(
            path=(raw.get("input_data") or {}).get("path"),
            columns={str(k): str(v) for k, v in (raw.get("data_column_names") or {}).items()},
        )


@dataclass(frozen=True)
class SignalConfig:
    name: str
    type: str
    alert_enabled: bool
    # None: every column the reference and production have in common (Azure's all_features)
    features: tuple[str, ...] | None = None
    top_n_features: int | None = None
    feature_type_override: dict[str, str] = field(default_factory=dict)
    # metric -> threshold, per feature type (drift, data quality) or for the signal (attribution, performance)
    numerical: dict[str, float] = field(default_factory=dict)
    categorical: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    production: tuple[DataBinding, ...] = ()
    reference: DataBinding | None = None
    # fewer rows than this in what the signal computes on: "not enough data" (properties.mlops.min_window_rows)
    min_rows: int = DEFAULT_MIN_WINDOW_ROWS

    def column(self, role: str) -> str | None:
        """A `data_column_names` entry (target_column, prediction, prediction_probability, correlation_id, actual)."""
        return self.production_column(role) or self.reference_column(role)

    def reference_column(self, role: str) -> str | None:
        return self.reference.columns.get(role) if self.reference else None

    def production_column(self, role: str) -> str | None:
        return next((b.columns[role] for b in self.production if role in b.columns), None)


@dataclass(frozen=True)
class RetrainRule:
    """Retrain when at least `min_breached` of the last `last_runs` windows breached AND the latest one did."""

    min_breached: int
    last_runs: int
    signals: tuple[str, ...]


@dataclass(frozen=True)
class WindowRules:
    """What a window's data must satisfy beyond each signal's minimum rows (the schedule's properties)."""

    min_prediction_coverage: float = DEFAULT_MIN_PREDICTION_COVERAGE
    max_malformed_share: float = DEFAULT_MAX_MALFORMED_SHARE


@dataclass(frozen=True)
class MonitorConfig:
    """What the local monitor runs: its signals, in the order of the YAML, and the retrain rule."""

    name: str
    ml_task: str
    signals: dict[str, SignalConfig]
    retrain: RetrainRule
    warnings: tuple[str, ...]
    # the model's positive class (properties.mlops.positive_label): model_performance's precision and recall are of
    # this class; None: the class that sorts last in a window with at most two classes, macro-averaged with more
    positive_label: str | None = None
    window: WindowRules = field(default_factory=WindowRules)


# ---------------------------------------------------------------------------------------------------------------
# Reading a signal block: one reader per shape of block; the registry (kinds.py) says which type uses which.

PerType = tuple[dict[str, float], dict[str, float]]  # (numerical, categorical) thresholds


@dataclass(frozen=True)
class SignalBlock:
    """One `create_monitor.monitoring_signals.<name>` mapping on its way to a SignalConfig."""

    path: Path
    name: str
    type: str
    raw: dict[str, Any]
    ml_task: str
    warnings: list[str]

    @property
    def where(self) -> str:
        return f"create_monitor.monitoring_signals.{self.name}"

    @property
    def thresholds(self) -> Any:
        return self.raw.get("metric_thresholds")

    def warn(self, message: str) -> None:
        self.warnings.append(f"signal '{self.name}': {message}")

    def signal(self, **fields: Any) -> SignalConfig:
        """The SignalConfig: the keys every signal type has, plus `fields`, the ones of this type."""
        production = self.raw.get("production_data")
        bindings = production if isinstance(production, list) else [production] if production else []
        reference = self.raw.get("reference_data")
        return SignalConfig(
            name=self.name,
            type=self.type,
            alert_enabled=bool(self.raw.get("alert_enabled", False)),
            production=tuple(DataBinding.parse(item) for item in bindings),
            reference=DataBinding.parse(reference) if reference else None,
            **fields,
        )


def parse_drift(block: SignalBlock) -> SignalConfig:
    """Features and one threshold per feature type, the one azure-ai-ml sends."""
    return _feature_signal(block, _drift_thresholds)


def parse_quality(block: SignalBlock) -> SignalConfig:
    """Features and the three data-quality rates per feature type."""
    return _feature_signal(block, _quality_thresholds)


def parse_attribution(block: SignalBlock) -> SignalConfig:
    value = (block.thresholds or {}).get(ATTRIBUTION_METRIC)
    if not value:
        block.warn(f"no non-zero {ATTRIBUTION_METRIC} threshold; NDCG is reported only")
    return block.signal(thresholds={ATTRIBUTION_METRIC: float(value)} if value else {})


def parse_performance(block: SignalBlock) -> SignalConfig:
    """The thresholds of the monitor's ml_task; those of the other task are warned about."""
    by_task, task = block.thresholds or {}, block.ml_task
    chosen = {
        metric: float(value)
        for metric, value in (by_task.get(task) or {}).items()
        if value is not None and metric in PERFORMANCE_METRICS[task]
    }
    for other_task in (t for t in by_task if t != task):
        block.warn(f"metric_thresholds.{other_task} ignored (ml_task is {task})")
    return block.signal(thresholds=chosen)


def _feature_signal(block: SignalBlock, thresholds: Callable[[SignalBlock], PerType]) -> SignalConfig:
    features, top_n = _parse_features(block)
    override = {}
    for feature, column_type in (block.raw.get("feature_type_override") or {}).items():
        if str(column_type).lower() not in COLUMN_TYPES:
            raise MonitorInputError(
                f"{block.path}: {block.where}.feature_type_override.{feature}: '{column_type}' is not numerical or "
                "categorical"
            )
        override[str(feature)] = str(column_type).lower()
    numerical, categorical = thresholds(block)
    return block.signal(
        features=features,
        top_n_features=top_n,
        feature_type_override=override,
        numerical=numerical,
        categorical=categorical,
    )


def _parse_features(block: SignalBlock) -> tuple[tuple[str, ...] | None, int | None]:
    raw = block.raw.get("features")
    if raw is None or raw == "all_features":
        return None, None
    if isinstance(raw, list):
        return tuple(str(f) for f in raw), None
    if isinstance(raw, dict) and "top_n_feature_importance" in raw:
        return None, int(raw["top_n_feature_importance"])
    raise MonitorInputError(
        f"{block.path}: {block.where}.features: expected a list, all_features or top_n_feature_importance"
    )


def _drift_thresholds(block: SignalBlock) -> PerType:
    raw = block.thresholds
    if not raw:
        block.warn("no metric_thresholds; using the SDK defaults")
        return dict(SDK_DEFAULT_DRIFT[NUMERICAL]), dict(SDK_DEFAULT_DRIFT[CATEGORICAL])
    out: list[dict[str, float]] = []
    for column_type in (NUMERICAL, CATEGORICAL):
        given = {k: v for k, v in (raw.get(column_type) or {}).items() if v is not None}
        sent = next((metric for metric in DRIFT_METRICS[column_type] if given.get(metric)), None)
        for metric in given:
            if metric != sent:
                reason = "a threshold of 0 is not sent" if not given[metric] else f"only {sent} is sent"
                block.warn(
                    f"metric_thresholds.{column_type}.{metric} ignored: azure-ai-ml sends one metric per feature "
                    f"type ({reason}); it is still computed and reported"
                )
        out.append({sent: float(given[sent])} if sent else {})
    return out[0], out[1]


def _quality_thresholds(block: SignalBlock) -> PerType:
    raw = block.thresholds
    if not raw:
        block.warn("no metric_thresholds; using the SDK defaults (0.0)")
        return dict(SDK_DEFAULT_QUALITY), dict(SDK_DEFAULT_QUALITY)
    out: list[dict[str, float]] = []
    for column_type in (NUMERICAL, CATEGORICAL):
        given = raw.get(column_type) or {}
        out.append({metric: float(given[metric]) for metric in QUALITY_METRICS if given.get(metric) is not None})
    return out[0], out[1]
