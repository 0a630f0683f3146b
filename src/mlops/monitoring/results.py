"""The result of one monitoring window: per signal, per feature, per metric — value, threshold, breach, direction;
and its one-screen text summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops.monitoring.metrics import Distribution

ABOVE = "above"  # alert when value > threshold
BELOW = "below"  # alert when value < threshold

# How the report draws a signal's breached features (SignalResult.plot; None: tables only).
DISTRIBUTIONS = "distributions"  # reference vs production histogram or category shares

# Distributions with more bins/categories than this are left out of report.json (an id-like column would be huge).
MAX_DISTRIBUTION_LABELS = 200

COMPUTED = "computed"
SKIPPED = "skipped"
# too few rows (or too few of the inputs with a prediction) to judge: neither pass nor breach, and the window does not
# count towards the retrain rule for this signal
NOT_ENOUGH_DATA = "not enough data"
# report.json lists at most this many malformed lines (the count is always exact)
MAX_LISTED_MALFORMED = 100


def breaches(value: float | None, threshold: float | None, direction: str | None) -> bool:
    """Whether `value` breaches `threshold` in `direction` (never for a missing value or threshold)."""
    if direction not in (ABOVE, BELOW):
        raise ValueError(f"alert direction must be {ABOVE} or {BELOW}, got {direction}")
    if value is None or threshold is None or math.isnan(value):
        return False
    return value < threshold if direction == BELOW else value > threshold


@dataclass(frozen=True)
class MalformedLine:
    """A collected JSON line the reader skipped: where (`file:line`) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where} ({self.reason})"


@dataclass(frozen=True)
class InputLines:
    """What the reader of collected JSON lines read for a window: non-blank lines, and those it skipped."""

    lines: int
    malformed: tuple[MalformedLine, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "malformed_lines": len(self.malformed),
            "malformed": [{"where": m.where, "reason": m.reason} for m in self.malformed[:MAX_LISTED_MALFORMED]],
        }

    def summary(self) -> str | None:
        """`skipped 3 malformed lines (of 412): <file>:<line> (why); ...`, or None when nothing was skipped."""
        if not self.malformed:
            return None
        count = len(self.malformed)
        shown = "; ".join(map(str, self.malformed[:3])) + (f"; +{count - 3} more in the report" if count > 3 else "")
        return f"skipped {count} malformed line{'s' if count > 1 else ''} (of {self.lines}): {shown}"


@dataclass
class MetricResult:
    metric: str
    value: float | None
    threshold: float | None = None
    # why `value` is None (not computable); a value is never NaN
    reason: str | None = None
    # ABOVE or BELOW, from the signal's kind (set when the signal runs)
    direction: str | None = None

    @property
    def breached(self) -> bool:
        return breaches(self.value, self.threshold, self.direction)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "direction": self.direction,
            "breached": self.breached,
            "reason": self.reason,
        }


@dataclass
class FeatureResult:
    feature: str
    column_type: str | None
    metrics: list[MetricResult]
    reference_rows: int | None = None
    production_rows: int | None = None
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    distribution: Distribution | None = None

    @property
    def breached(self) -> bool:
        return any(m.breached for m in self.metrics)

    @property
    def breached_metrics(self) -> list[MetricResult]:
        return [m for m in self.metrics if m.breached]

    def metric(self, name: str) -> MetricResult:
        for m in self.metrics:
            if m.metric == name:
                return m
        raise KeyError(f"{self.feature}: no metric {name}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "feature": self.feature,
            "column_type": self.column_type,
            "breached": self.breached,
            "reference_rows": self.reference_rows,
            "production_rows": self.production_rows,
            "metrics": [m.to_dict() for m in self.metrics],
            "notes": self.notes,
        }
        if self.details:
            out["details"] = self.details
        if self.distribution is not None and len(self.distribution.labels) <= MAX_DISTRIBUTION_LABELS:
            out["distribution"] = self.distribution.to_dict()
        return out


@dataclass
class SignalResult:
    name: str
    type: str
    alert_enabled: bool
    features: list[FeatureResult] = field(default_factory=list)
    status: str = COMPUTED
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    # from the signal's kind: how the report draws it (DISTRIBUTIONS or None)
    plot: str | None = None

    @property
    def breached(self) -> bool:
        """Any metric over its threshold (whether or not the signal alerts)."""
        return any(f.breached for f in self.features)

    @property
    def alerting(self) -> bool:
        """A breach that Azure would alert on: the signal has alert_enabled."""
        return self.alert_enabled and self.breached

    @property
    def breached_features(self) -> list[str]:
        return [f.feature for f in self.features if f.breached]

    @property
    def evaluated(self) -> bool:
        """Computed on enough data (not skipped, not "not enough data")."""
        return self.status == COMPUTED

    def feature(self, name: str) -> FeatureResult:
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(f"signal {self.name}: no feature {name}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "alert_enabled": self.alert_enabled,
            "status": self.status,
            "reason": self.reason,
            "breached": self.breached,
            "alerting": self.alerting,
            "breached_features": self.breached_features,
            "notes": self.notes,
            "features": [f.to_dict() for f in self.features],
        }


@dataclass
class RetrainDecision:
    retrain: bool
    breached_windows: int
    considered_windows: int
    min_breached: int
    last_runs: int
    signals: tuple[str, ...]
    latest_breached: bool
    # False when none of the retrain signals could be evaluated on this window (not enough data, skipped)
    latest_counted: bool = True

    @property
    def reason(self) -> str:
        rule = f"M={self.min_breached} of the last N={self.last_runs} windows, latest included"
        if not self.latest_counted:
            return f"this window does not count: no retrain signal had enough data to judge it ({rule})"
        if self.retrain:
            return f"{self.breached_windows} of the last {self.considered_windows} windows breached ({rule})"
        if not self.latest_breached:
            return f"this window did not breach the retrain signals ({rule})"
        return f"only {self.breached_windows} of the last {self.considered_windows} windows breached ({rule})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "reason": self.reason,
            "breached_windows": self.breached_windows,
            "considered_windows": self.considered_windows,
            "min_breached_windows": self.min_breached,
            "last_windows": self.last_runs,
            "signals": list(self.signals),
            "latest_counted": self.latest_counted,
        }


@dataclass
class MonitorResult:
    monitor: str
    window: str
    timestamp: datetime
    signals: list[SignalResult]
    warnings: list[str] = field(default_factory=list)
    retrain: RetrainDecision | None = None
    report_json: Path | None = None
    report_html: Path | None = None
    history_file: Path | None = None
    # the history page across windows (trends.py), rewritten after each run by the local target
    history_html: Path | None = None
    # what the reader of collected JSON lines skipped (None for frames and batch files)
    input_lines: InputLines | None = None
    # the endpoint's request count, error rates and latencies (operational.OperationalReport; None: not read)
    operational: Any = None

    @property
    def breached(self) -> bool:
        """True when a signal with alert_enabled breached a threshold (what Azure would email about)."""
        return any(s.alerting for s in self.signals)

    @property
    def breached_signals(self) -> dict[str, list[str]]:
        """Alerting signals and their breached features."""
        return {s.name: s.breached_features for s in self.signals if s.alerting}

    @property
    def not_enough_data(self) -> list[str]:
        """Signals that had too little data to judge this window."""
        return [s.name for s in self.signals if s.status == NOT_ENOUGH_DATA]

    def signal(self, name: str) -> SignalResult:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(f"no signal {name}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "window": self.window,
            "timestamp": self.timestamp.isoformat(),
            "breached": self.breached,
            "breached_signals": self.breached_signals,
            "retrain": self.retrain.to_dict() if self.retrain else None,
            "not_enough_data": self.not_enough_data,
            "input": self.input_lines.to_dict() if self.input_lines else None,
            "warnings": self.warnings,
            "signals": [s.to_dict() for s in self.signals],
            "operational": self.operational.to_dict() if self.operational is not None else None,
        }

    def summary(self) -> str:
        """One screen: the verdict, a line per signal, the retrain decision, the first warnings, the report."""
        status = "BREACHED" if self.breached else "ok"
        if not self.breached and self.not_enough_data:
            status += f" ({len(self.not_enough_data)} signal(s) with not enough data)"
        lines = [f"Monitor {self.monitor}, window '{self.window}' ({self.timestamp:%Y-%m-%d %H:%M:%S %Z}): {status}"]
        skipped = self.input_lines.summary() if self.input_lines else None
        if skipped:
            lines.append(f"Input: {skipped}")
        lines += [_signal_line(s) for s in self.signals]
        if self.retrain is not None:
            lines.append(f"Retrain: {'YES' if self.retrain.retrain else 'no'} — {self.retrain.reason}")
        for warning in self.warnings[:5]:
            lines.append(f"Warning: {warning}")
        if len(self.warnings) > 5:
            lines.append(f"… {len(self.warnings) - 5} more warnings in the report")
        if self.operational is not None:
            lines += self.operational.summary_lines()
        if self.report_html is not None:
            lines.append(f"Report: {self.report_html}  (data: {self.report_json})")
        if self.history_html is not None:
            lines.append(f"Monitor history: {self.history_html}")
        return "\n".join(lines)


def _metric_text(metric: MetricResult) -> str:
    if metric.value is None:
        return f"{metric.metric} n/a"
    sign = "<" if metric.direction == BELOW else ">"
    return f"{metric.metric} {metric.value:.3g} {sign} {metric.threshold:g}"


def _signal_line(signal: SignalResult) -> str:
    head = f"  {signal.name:<28} {signal.type:<26}"
    if signal.status == SKIPPED:
        return f"{head}skipped: {signal.reason}"
    if signal.status == NOT_ENOUGH_DATA:
        return f"{head}not enough data: {signal.reason}"
    if not signal.breached:
        not_computable = sum(1 for f in signal.features for m in f.metrics if m.value is None)
        tail = f" ({not_computable} metric(s) not computable)" if not_computable else ""
        return f"{head}ok, {len(signal.features)} checked{tail}"
    label = "BREACH" if signal.alert_enabled else "breach (alert off)"
    parts = [
        f"{f.feature}: {', '.join(_metric_text(m) for m in f.breached_metrics)}" for f in signal.features if f.breached
    ]
    shown = "; ".join(parts[:4]) + (f"; +{len(parts) - 4} more" if len(parts) > 4 else "")
    return f"{head}{label} {shown}"
