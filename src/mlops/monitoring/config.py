"""Read monitoring/monitor.yml — the Azure ML monitor schedule — into the settings the local monitor runs with.

The file is checked with azure-ai-ml's own `load_schedule` first (so it is valid for Azure), then read as plain
YAML. Thresholds are interpreted the way azure-ai-ml sends them to Azure:

- drift signals (data_drift, prediction_drift): azure-ai-ml 1.35 sends ONE metric per feature type — the first
  one set (non-zero) in the order below — and drops the rest. The local monitor evaluates the same one and
  reports the others as warnings; it still computes and reports every drift metric, without a threshold.
- data_quality: all three rates per feature type are sent.
- omitted `metric_thresholds`: the SDK defaults (numerical normalized Wasserstein 0.1, categorical
  Jensen-Shannon 0.1; data-quality rates 0.0).

The retrain rule lives in the schedule's `properties` (string values; Azure stores them, nothing else reads them):
`mlops.retrain.min_breached_windows` (M), `mlops.retrain.last_windows` (N) and `mlops.retrain.signals`.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.azureml import load_entity, read_yaml
from mlops.errors import MlopsError
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.metrics import CATEGORICAL, COLUMN_TYPES, NUMERICAL

DATA_DRIFT = "data_drift"
PREDICTION_DRIFT = "prediction_drift"
DATA_QUALITY = "data_quality"
FEATURE_ATTRIBUTION_DRIFT = "feature_attribution_drift"
MODEL_PERFORMANCE = "model_performance"
LOCAL_SIGNAL_TYPES = (DATA_DRIFT, PREDICTION_DRIFT, DATA_QUALITY, FEATURE_ATTRIBUTION_DRIFT, MODEL_PERFORMANCE)
# Valid on Azure, not computed by the local monitor (they run a custom component or call an LLM).
AZURE_ONLY_SIGNAL_TYPES = ("custom", "generation_safety_quality", "generation_token_statistics")

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

RETRAIN_M = "mlops.retrain.min_breached_windows"
RETRAIN_N = "mlops.retrain.last_windows"
RETRAIN_SIGNALS = "mlops.retrain.signals"
DEFAULT_RETRAIN = (2, 3)


@dataclass(frozen=True)
class DataBinding:
    """One `production_data` / `reference_data` entry as declared (the caller resolves the asset to a frame)."""

    path: str | None = None
    type: str | None = None
    data_context: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    data_window: dict[str, Any] | None = None
    pre_processing_component: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> DataBinding:
        if not isinstance(raw, dict):
            return cls()
        input_data = raw.get("input_data") or {}
        return cls(
            path=input_data.get("path"),
            type=input_data.get("type"),
            data_context=raw.get("data_context"),
            columns={str(k): str(v) for k, v in (raw.get("data_column_names") or {}).items()},
            data_window=raw.get("data_window"),
            pre_processing_component=raw.get("pre_processing_component"),
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

    def column(self, role: str) -> str | None:
        """A `data_column_names` entry (target_column, prediction, prediction_probability, correlation_id, actual)."""
        for binding in (*self.production, *((self.reference,) if self.reference else ())):
            if role in binding.columns:
                return binding.columns[role]
        return None

    def reference_column(self, role: str) -> str | None:
        return self.reference.columns.get(role) if self.reference else None

    def production_column(self, role: str) -> str | None:
        for binding in self.production:
            if role in binding.columns:
                return binding.columns[role]
        return None


@dataclass(frozen=True)
class RetrainRule:
    """Retrain when at least `min_breached` of the last `last_runs` windows breached AND the latest one did."""

    min_breached: int
    last_runs: int
    signals: tuple[str, ...]


@dataclass(frozen=True)
class MonitorConfig:
    path: Path
    name: str
    ml_task: str
    endpoint_deployment_id: str | None
    signals: dict[str, SignalConfig]
    retrain: RetrainRule
    emails: tuple[str, ...]
    warnings: tuple[str, ...]


def load_config(path: Path | str) -> MonitorConfig:
    """Validate `path` with azure-ai-ml's load_schedule, then read it. Errors name the file and the field."""
    path = Path(path)
    try:
        document = read_yaml(path)
    except MlopsError as exc:
        raise MonitorInputError(str(exc)) from exc
    _check_signal_types(path, document)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in _ACCEPTED_BY_SDK:  # the SDK check takes about a second; a file's content passes it once
        _check_with_sdk(path)
        _ACCEPTED_BY_SDK.add(digest)
    return parse_config(path, document)


_ACCEPTED_BY_SDK: set[str] = set()


def _check_signal_types(path: Path, document: dict[str, Any]) -> None:
    """Unknown signal types first: the SDK's own message for them is a page of union-schema errors."""
    signals = _mapping(path, document, "create_monitor", "monitoring_signals")
    known = LOCAL_SIGNAL_TYPES + AZURE_ONLY_SIGNAL_TYPES
    for name, raw in signals.items():
        where = f"create_monitor.monitoring_signals.{name}"
        if not isinstance(raw, dict):
            raise MonitorInputError(f"{path}: {where}: expected a mapping, got {type(raw).__name__}")
        kind = raw.get("type")
        if kind is None:
            raise MonitorInputError(f"{path}: {where}.type: missing (one of {', '.join(known)})")
        if str(kind).lower() not in known:
            raise MonitorInputError(f"{path}: {where}.type: unknown signal type '{kind}' (one of {', '.join(known)})")


def _check_with_sdk(path: Path) -> None:
    """The loader the file's `$schema` names must be load_schedule, and it must accept the file."""
    try:
        entity = load_entity(path)
    except MlopsError as exc:
        details = _schema_errors(exc)
        message = f"{path}: load_schedule rejected it: {details}" if details else str(exc)
        raise MonitorInputError(message) from exc
    if type(entity).__name__ != "MonitorSchedule":
        raise MonitorInputError(
            f"{path}: $schema: loads as {type(entity).__name__}, not a monitor schedule "
            "(use https://azuremlschemas.azureedge.net/latest/monitorSchedule.schema.json)"
        )
    # Some rules (e.g. the Spark runtime version) are only checked when the SDK builds the request body.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entity._to_rest_object()
    except Exception as exc:  # the SDK raises several types; all mean "Azure would refuse this file"
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        details = [line.strip(" (x)") for line in message.splitlines() if line.strip().startswith("(x)")]
        raise MonitorInputError(
            f"{path}: azure-ai-ml cannot build the request for it: {'; '.join(details) or ' '.join(message.split())}"
        ) from exc


def _schema_errors(exc: BaseException) -> str | None:
    """Field paths and messages of the schema error behind an SDK failure.

    For schedules azure-ai-ml 1.35 loses its own message (formatting it raises NotImplementedError); the
    marshmallow error with the per-field messages is still in the exception chain.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        messages = getattr(current, "messages", None)
        if isinstance(messages, dict):
            leaves = _flatten_schema_messages(messages, "")
            return "; ".join(leaves[:5]) + (f"; … {len(leaves) - 5} more" if len(leaves) > 5 else "")
        todo += [current.__cause__, current.__context__]
    return None


def _flatten_schema_messages(node: Any, where: str) -> list[str]:
    """`a.b.c: message` leaves; for a union (a list of one error set per alternative) the alternative that does not
    complain about `type` — the one the file meant — stands for the rest."""
    if isinstance(node, dict):
        if set(node) == {"value"}:  # marshmallow's wrapper around a dict value's errors
            return _flatten_schema_messages(node["value"], where)
        out: list[str] = []
        for key, child in node.items():
            out += _flatten_schema_messages(child, f"{where}.{key}" if where else str(key))
        return out
    if isinstance(node, list):
        alternatives = [item for item in node if isinstance(item, dict)]
        if alternatives:
            meant = [a for a in alternatives if "type" not in a] or alternatives
            return _flatten_schema_messages(meant[0], where)
        texts = [" ".join(str(item).split()) for item in node if not isinstance(item, list)]
        nested = [leaf for item in node if isinstance(item, list) for leaf in _flatten_schema_messages(item, where)]
        return ([f"{where}: {'; '.join(texts)}"] if texts else []) + nested
    return [f"{where}: {node}"]


def _mapping(path: Path, document: dict[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = document
    for depth, key in enumerate(keys):
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise MonitorInputError(f"{path}: {'.'.join(keys[: depth + 1])}: missing or not a mapping")
    return node


def parse_config(path: Path, document: dict[str, Any]) -> MonitorConfig:
    """Turn the (already validated) YAML mapping into a MonitorConfig."""
    monitor = _mapping(path, document, "create_monitor")
    target = monitor.get("monitoring_target") or {}
    ml_task = str(target.get("ml_task") or "classification").lower()
    if ml_task not in PERFORMANCE_METRICS:
        raise MonitorInputError(
            f"{path}: create_monitor.monitoring_target.ml_task: '{ml_task}' is not monitored locally "
            f"(classification or regression)"
        )
    warnings: list[str] = []
    signals: dict[str, SignalConfig] = {}
    for name, raw in _mapping(path, document, "create_monitor", "monitoring_signals").items():
        kind = str(raw["type"]).lower()
        if kind in AZURE_ONLY_SIGNAL_TYPES:
            warnings.append(f"signal '{name}' ({kind}) runs on Azure only; the local monitor skips it")
            continue
        signals[name] = _parse_signal(path, name, kind, raw, ml_task, warnings)
    if not signals:
        raise MonitorInputError(f"{path}: create_monitor.monitoring_signals: no signal the local monitor can run")
    alert = monitor.get("alert_notification")
    emails = tuple(alert.get("emails") or ()) if isinstance(alert, dict) else ()
    return MonitorConfig(
        path=path,
        name=str(document.get("name", path.stem)),
        ml_task=ml_task,
        endpoint_deployment_id=target.get("endpoint_deployment_id"),
        signals=signals,
        retrain=_parse_retrain(path, document.get("properties") or {}, signals),
        emails=emails,
        warnings=tuple(warnings),
    )


def _parse_signal(
    path: Path, name: str, kind: str, raw: dict[str, Any], ml_task: str, warnings: list[str]
) -> SignalConfig:
    where = f"create_monitor.monitoring_signals.{name}"
    production_raw = raw.get("production_data")
    production = tuple(
        DataBinding.parse(item)
        for item in (production_raw if isinstance(production_raw, list) else [production_raw] if production_raw else [])
    )
    reference = DataBinding.parse(raw["reference_data"]) if raw.get("reference_data") else None
    common = dict(
        name=name,
        type=kind,
        alert_enabled=bool(raw.get("alert_enabled", False)),
        production=production,
        reference=reference,
    )
    thresholds = raw.get("metric_thresholds")
    if raw.get("data_segment"):
        warnings.append(f"signal '{name}': data_segment is applied on Azure only; the local monitor uses all rows")
    if kind in (DATA_DRIFT, PREDICTION_DRIFT, DATA_QUALITY):
        features, top_n = _parse_features(path, where, raw.get("features"))
        override = {}
        for feature, column_type in (raw.get("feature_type_override") or {}).items():
            if str(column_type).lower() not in COLUMN_TYPES:
                raise MonitorInputError(
                    f"{path}: {where}.feature_type_override.{feature}: '{column_type}' is not numerical or categorical"
                )
            override[str(feature)] = str(column_type).lower()
        if kind == DATA_QUALITY:
            numerical, categorical = _quality_thresholds(thresholds, name, warnings)
        else:
            numerical, categorical = _drift_thresholds(thresholds, name, warnings)
        return SignalConfig(
            **common,
            features=features,
            top_n_features=top_n,
            feature_type_override=override,
            numerical=numerical,
            categorical=categorical,
        )
    if kind == FEATURE_ATTRIBUTION_DRIFT:
        value = (thresholds or {}).get(ATTRIBUTION_METRIC)
        if not value:
            warnings.append(f"signal '{name}': no non-zero {ATTRIBUTION_METRIC} threshold; NDCG is reported only")
        return SignalConfig(**common, thresholds={ATTRIBUTION_METRIC: float(value)} if value else {})
    # model_performance
    by_task = thresholds or {}
    chosen = {
        metric: float(value)
        for metric, value in (by_task.get(ml_task) or {}).items()
        if value is not None and metric in PERFORMANCE_METRICS[ml_task]
    }
    for other_task in set(by_task) - {ml_task}:
        warnings.append(f"signal '{name}': metric_thresholds.{other_task} ignored (ml_task is {ml_task})")
    return SignalConfig(**common, thresholds=chosen)


def _parse_features(path: Path, where: str, raw: Any) -> tuple[tuple[str, ...] | None, int | None]:
    if raw is None or raw == "all_features":
        return None, None
    if isinstance(raw, list):
        return tuple(str(f) for f in raw), None
    if isinstance(raw, dict) and "top_n_feature_importance" in raw:
        return None, int(raw["top_n_feature_importance"])
    raise MonitorInputError(f"{path}: {where}.features: expected a list, all_features or top_n_feature_importance")


def _drift_thresholds(raw: Any, name: str, warnings: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    if not raw:
        warnings.append(f"signal '{name}': no metric_thresholds; using the SDK defaults")
        return dict(SDK_DEFAULT_DRIFT[NUMERICAL]), dict(SDK_DEFAULT_DRIFT[CATEGORICAL])
    out: list[dict[str, float]] = []
    for column_type in (NUMERICAL, CATEGORICAL):
        given = {k: v for k, v in (raw.get(column_type) or {}).items() if v is not None}
        sent = next((metric for metric in DRIFT_METRICS[column_type] if given.get(metric)), None)
        for metric in given:
            if metric != sent:
                reason = "a threshold of 0 is not sent" if not given[metric] else f"only {sent} is sent"
                warnings.append(
                    f"signal '{name}': metric_thresholds.{column_type}.{metric} ignored: azure-ai-ml sends one "
                    f"metric per feature type ({reason}); it is still computed and reported"
                )
        out.append({sent: float(given[sent])} if sent else {})
    return out[0], out[1]


def _quality_thresholds(raw: Any, name: str, warnings: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    if not raw:
        warnings.append(f"signal '{name}': no metric_thresholds; using the SDK defaults (0.0)")
        return dict(SDK_DEFAULT_QUALITY), dict(SDK_DEFAULT_QUALITY)
    out: list[dict[str, float]] = []
    for column_type in (NUMERICAL, CATEGORICAL):
        given = raw.get(column_type) or {}
        out.append({metric: float(given[metric]) for metric in QUALITY_METRICS if given.get(metric) is not None})
    return out[0], out[1]


def _parse_retrain(path: Path, properties: dict[str, Any], signals: dict[str, SignalConfig]) -> RetrainRule:
    def integer(key: str, default: int) -> int:
        value = properties.get(key, default)
        try:
            return int(str(value))
        except ValueError as exc:
            raise MonitorInputError(f"{path}: properties.{key}: '{value}' is not an integer") from exc

    m = integer(RETRAIN_M, DEFAULT_RETRAIN[0])
    n = integer(RETRAIN_N, DEFAULT_RETRAIN[1])
    if not 1 <= m <= n:
        raise MonitorInputError(f"{path}: properties.{RETRAIN_M} / {RETRAIN_N}: need 1 <= M <= N, got M={m}, N={n}")
    raw_signals = properties.get(RETRAIN_SIGNALS)
    if raw_signals is None:
        chosen = tuple(name for name, signal in signals.items() if signal.type != DATA_QUALITY)
    else:
        chosen = tuple(s.strip() for s in str(raw_signals).split(",") if s.strip())
        unknown = [s for s in chosen if s not in signals]
        if unknown:
            raise MonitorInputError(
                f"{path}: properties.{RETRAIN_SIGNALS}: no signal named {', '.join(unknown)} "
                f"(signals: {', '.join(signals)})"
            )
    return RetrainRule(m, n, chosen)
