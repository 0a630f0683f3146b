"""Read monitoring/monitor.yml — the Azure ML monitor schedule — into the settings the local monitor runs with.

The file is checked with azure-ai-ml's own `load_schedule` first (so it is valid for Azure), then read as plain
YAML: each signal's block by the reader its type's registry entry names (kinds.py; thresholds as azure-ai-ml sends
them, see settings.py).

The retrain rule lives in the schedule's `properties` (string values; Azure stores them, nothing else reads them):
`mlops.retrain.min_breached_windows` (M), `mlops.retrain.last_windows` (N) and `mlops.retrain.signals`; so does
`mlops.positive_label`, the binary model's positive class (the `positive_label` of its MLmodel metadata), whose
precision and recall model_performance reports. So do the local-only window rules (Azure ML's schema has no
minimum sample size, and `feature_attribution_drift` takes no signal-level `properties`):
`mlops.min_window_rows` (every signal) and `mlops.min_window_rows.<signal>` (one signal),
`mlops.min_prediction_coverage` and `mlops.max_malformed_share`.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.kinds import AZURE_ONLY_SIGNAL_TYPES, GROUND_TRUTH, REFERENCE, SIGNAL_KINDS
from mlops.monitoring.settings import (
    DEFAULT_MAX_MALFORMED_SHARE,
    DEFAULT_MIN_PREDICTION_COVERAGE,
    DEFAULT_MIN_WINDOW_ROWS,
    MAX_MALFORMED_SHARE,
    MIN_PREDICTION_COVERAGE,
    MIN_WINDOW_ROWS,
    PERFORMANCE_METRICS,
    MonitorConfig,
    RetrainRule,
    SignalBlock,
    SignalConfig,
    WindowRules,
)
from mlops.project.loaders import load_entity, read_yaml

RETRAIN_M = "mlops.retrain.min_breached_windows"
RETRAIN_N = "mlops.retrain.last_windows"
RETRAIN_SIGNALS = "mlops.retrain.signals"
POSITIVE_LABEL = "mlops.positive_label"
DEFAULT_RETRAIN = (2, 3)


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
    known = (*SIGNAL_KINDS, *AZURE_ONLY_SIGNAL_TYPES)
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
        block = SignalBlock(path, name, kind, raw, ml_task, warnings)
        if raw.get("data_segment"):
            block.warn("data_segment is applied on Azure only; the local monitor uses all rows")
        signals[name] = SIGNAL_KINDS[kind].parse(block)
    if not signals:
        raise MonitorInputError(f"{path}: create_monitor.monitoring_signals: no signal the local monitor can run")
    properties = document.get("properties") or {}
    signals = _with_min_rows(path, properties, signals)
    return MonitorConfig(
        name=str(document.get("name", path.stem)),
        ml_task=ml_task,
        signals=signals,
        retrain=_parse_retrain(path, properties, signals),
        warnings=tuple(warnings),
        positive_label=_parse_positive_label(path, properties, ml_task),
        window=WindowRules(
            min_prediction_coverage=_share(path, properties, MIN_PREDICTION_COVERAGE, DEFAULT_MIN_PREDICTION_COVERAGE),
            max_malformed_share=_share(path, properties, MAX_MALFORMED_SHARE, DEFAULT_MAX_MALFORMED_SHARE),
        ),
    )


def _with_min_rows(path: Path, properties: dict[str, Any], signals: dict[str, SignalConfig]) -> dict[str, SignalConfig]:
    """Each signal's minimum rows: its own `mlops.min_window_rows.<signal>`, else `mlops.min_window_rows`, else the
    default."""
    default = _count(path, properties, MIN_WINDOW_ROWS, DEFAULT_MIN_WINDOW_ROWS)
    own: dict[str, int] = {}
    for key in properties:
        if str(key).startswith(MIN_WINDOW_ROWS + "."):
            name = str(key)[len(MIN_WINDOW_ROWS) + 1 :]
            if name not in signals:
                raise MonitorInputError(
                    f"{path}: properties.{key}: no signal named '{name}' (signals: {', '.join(signals)})"
                )
            own[name] = _count(path, properties, str(key), default)
    return {name: replace(signal, min_rows=own.get(name, default)) for name, signal in signals.items()}


def _count(path: Path, properties: dict[str, Any], key: str, default: int) -> int:
    """A whole number of rows, at least 1 (a string, as Azure stores properties, or a YAML integer)."""
    value = properties.get(key, default)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MonitorInputError(f"{path}: properties.{key}: '{value}' is not a whole number of rows") from None
    if number < 1:
        raise MonitorInputError(f"{path}: properties.{key}: {number} rows; expected at least 1")
    return number


def _share(path: Path, properties: dict[str, Any], key: str, default: float) -> float:
    """A share between 0 and 1 (e.g. "0.9")."""
    value = properties.get(key, default)
    try:
        number = float(str(value).strip())
    except ValueError:
        raise MonitorInputError(f"{path}: properties.{key}: '{value}' is not a number (a share from 0 to 1)") from None
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise MonitorInputError(f"{path}: properties.{key}: {value}; expected a share from 0 to 1")
    return number


def _parse_positive_label(path: Path, properties: dict[str, Any], ml_task: str) -> str | None:
    value = properties.get(POSITIVE_LABEL)
    if value is None or not str(value).strip():
        return None
    if ml_task != "classification":
        raise MonitorInputError(
            f"{path}: properties.{POSITIVE_LABEL}: '{value}' is set but monitoring_target.ml_task is {ml_task}; a "
            "positive label applies to binary classification only"
        )
    return str(value).strip()


def reference_assets(config: MonitorConfig) -> tuple[str | None, str | None]:
    """(reference data, ground truth): the first asset the signals' `reference_data` names in each role, by the
    role their kind gives it, in the order of the YAML."""
    found: dict[str, str | None] = {REFERENCE: None, GROUND_TRUTH: None}
    for signal in config.signals.values():
        role = SIGNAL_KINDS[signal.type].reference_role
        if found[role] is None and signal.reference is not None:
            found[role] = signal.reference.path
    return found[REFERENCE], found[GROUND_TRUTH]


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
        chosen = tuple(name for name, signal in signals.items() if SIGNAL_KINDS[signal.type].retrains)
    else:
        chosen = tuple(s.strip() for s in str(raw_signals).split(",") if s.strip())
        unknown = [s for s in chosen if s not in signals]
        if unknown:
            raise MonitorInputError(
                f"{path}: properties.{RETRAIN_SIGNALS}: no signal named {', '.join(unknown)} "
                f"(signals: {', '.join(signals)})"
            )
    return RetrainRule(m, n, chosen)
