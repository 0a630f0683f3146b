"""The registration gate: a pure function from metrics to a decision.

Checks
  min_metric       the candidate's primary metric meets the threshold, a bound in the metric's own direction: for
                   higher-is-better metrics a floor (value >= min_metric), for lower-is-better metrics (mae, mse,
                   rmse, log_loss) a ceiling (value <= min_metric; 0, an error no real model reaches, means "no
                   ceiling"). It must lie in the metric's range (roc_auc, accuracy, precision, recall, f1 in [0, 1];
                   r2 <= 1; error metrics >= 0), else the configuration is refused. Not given: the metric's default
                   (`DEFAULT_THRESHOLDS`: roc_auc 0.5 and r2 0, i.e. better than chance / than predicting the mean;
                   no bound for the others), so a threshold meant for one metric never applies to another.
  min_improvement  when a champion exists, the candidate improves on it by at least min_improvement; improvement is
                   signed so that positive is better (candidate − champion, or champion − candidate for
                   lower-is-better metrics). A champion that could not be loaded or scored fails this check.
  max_disparity    (only when given, with a sensitive feature) the candidate's disparity between the sensitive
                   feature's groups (`disparity_metric`: demographic_parity_difference, equalized_odds_difference,
                   accuracy_difference or mae_difference, from fairness.py) is at most max_disparity. A disparity
                   that cannot be computed (a group without positive rows) fails the check.

Modes (like admission-control gates)
  enabled   register only if every check passes.
  dry_run   evaluate and report the checks but do not enforce them: register = true, `would_register` records what
            `enabled` would have decided. For watching a new threshold before enforcing it.
  disabled  skip the checks: register = true.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tabular_common.errors import DataError
from tabular_common.metrics import (
    DEFAULT_THRESHOLDS,
    LOWER_IS_BETTER,
    describe_range,
    higher_is_better,
    in_range,
    metric_names,
)
from tabular_common.registry import TOLERANCE, improvement, improves

MODES = ("enabled", "dry_run", "disabled")


def check_config(
    task: str, primary_metric: str, mode: str, min_metric: float | None, min_improvement: float
) -> float | None:
    """Raise DataError for a gate configuration that cannot be evaluated; return the threshold the gate uses
    (`min_metric`, or the primary metric's default when it is None)."""
    valid = metric_names(task)
    if primary_metric not in valid:
        raise DataError(f"primary_metric: '{primary_metric}' is not a {task} metric; valid: {', '.join(valid)}")
    if mode not in MODES:
        raise DataError(f"gate_mode: '{mode}' is not supported; expected one of {', '.join(MODES)}")
    for name, value in (("min_metric", min_metric), ("min_improvement", min_improvement)):
        if value is not None and not math.isfinite(value):
            raise DataError(f"{name}: expected a finite number, got {value}")
    if min_metric is None:
        return DEFAULT_THRESHOLDS[primary_metric]
    if not in_range(primary_metric, min_metric):
        bound = "a floor" if higher_is_better(primary_metric) else "a ceiling"
        raise DataError(
            f"min_metric: {min_metric:g} is outside the range of {primary_metric} ({describe_range(primary_metric)}); "
            f"min_metric is {bound} on primary_metric '{primary_metric}' (a floor for higher-is-better metrics, a "
            f"ceiling for {', '.join(sorted(LOWER_IS_BETTER))}); give one for this metric or leave it out for the "
            "metric's default"
        )
    return min_metric


def decide(
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    *,
    task: str,
    primary_metric: str,
    mode: str = "enabled",
    min_metric: float | None = None,
    min_improvement: float = 0.0,
    champion_version: str | int | None = None,
    champion_error: str | None = None,
    disparity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The decision record written to decision.json.

    `champion_version` None means there is no champion; with `champion_error` set the champion exists but could
    not be loaded or scored on the test split. `min_metric` None: the primary metric's default threshold.
    `disparity` (when max_disparity is set): {"metric", "value", "max", "sensitive_feature"}.
    """
    threshold = check_config(task, primary_metric, mode, min_metric, min_improvement)
    source = "input" if min_metric is not None else f"default for {primary_metric}"
    higher = higher_is_better(primary_metric)
    candidate_value = candidate.get(primary_metric)
    has_champion = champion_version is not None
    champion_value = champion.get(primary_metric) if (has_champion and champion is not None) else None
    gain = None
    if candidate_value is not None and champion_value is not None:
        gain = improvement(candidate_value, champion_value, higher)

    checks: list[dict[str, Any]] = []
    if mode != "disabled":
        checks.append(_threshold_check(primary_metric, candidate_value, threshold, higher, source))
        checks.append(
            _improvement_check(
                primary_metric,
                candidate_value,
                champion_version,
                champion_value,
                champion_error,
                gain,
                min_improvement,
            )
        )
        if disparity is not None:
            checks.append(_disparity_check(disparity))
    passed = all(check["passed"] for check in checks) if checks else None
    failed = [check["detail"] for check in checks if not check["passed"]]
    if mode == "disabled":
        would_register, register = True, True
        reason = "The gate is disabled (gate_mode disabled), so the candidate is registered without checks."
    elif mode == "dry_run":
        would_register, register = bool(passed), True
        verdict = "register" if passed else f"not register it ({'; '.join(failed)})"
        reason = f"Dry run: an enabled gate would {verdict}; registering anyway because gate_mode is dry_run."
    else:
        would_register = register = bool(passed)
        if passed:
            reason = f"All gate checks passed ({'; '.join(c['detail'] for c in checks)}); registering the candidate."
        else:
            reason = f"Not registering the candidate: {'; '.join(failed)}."
    return {
        "mode": mode,
        "primary_metric": primary_metric,
        "higher_is_better": higher,
        "candidate_value": candidate_value,
        "champion_version": None if champion_version is None else str(champion_version),
        "champion_value": champion_value,
        "improvement": gain,
        "min_metric": threshold,
        "min_metric_source": source,
        "min_improvement": min_improvement,
        "max_disparity": None if disparity is None else disparity["max"],
        "disparity": None if disparity is None else dict(disparity),
        "checks": checks,
        "passed": passed,
        "would_register": would_register,
        "register": register,
        "reason": reason,
    }


def _threshold_check(
    metric: str, value: float | None, threshold: float | None, higher: bool, source: str
) -> dict[str, Any]:
    name = "min_metric"
    given = "" if source == "input" else f" ({source})"
    if value is None:
        return _check(name, False, f"candidate {metric} could not be computed on the test split")
    if threshold is None:
        return _check(name, True, f"no bound on {metric}{given}, candidate {value:.4f}")
    if higher:
        ok = value >= threshold - TOLERANCE
        return _check(name, ok, f"candidate {metric} {value:.4f} {'>=' if ok else '<'} min_metric {threshold:g}{given}")
    if threshold <= 0:
        return _check(name, True, f"no ceiling on {metric} (min_metric {threshold:g}), candidate {value:.4f}")
    ok = value <= threshold + TOLERANCE
    return _check(
        name,
        ok,
        f"candidate {metric} {value:.4f} {'<=' if ok else '>'} ceiling {threshold:g}{given} (lower is better)",
    )


def _improvement_check(
    metric: str,
    candidate_value: float | None,
    champion_version: str | int | None,
    champion_value: float | None,
    champion_error: str | None,
    gain: float | None,
    min_improvement: float,
) -> dict[str, Any]:
    name = "min_improvement"
    if champion_version is None:
        return _check(name, True, "no champion to compare against")
    if champion_error:
        return _check(name, False, f"champion version {champion_version} could not be evaluated: {champion_error}")
    if champion_value is None:
        return _check(name, False, f"champion version {champion_version} has no {metric} on the test split")
    if candidate_value is None or gain is None:
        return _check(name, False, f"candidate {metric} is missing, cannot compare with the champion")
    ok = improves(gain, min_improvement)
    return _check(
        name,
        ok,
        f"improvement over champion version {champion_version} ({metric} {champion_value:.4f}) is "
        f"{gain:+.4f}, {'>=' if ok else '<'} min_improvement {min_improvement:g}",
    )


def check_max_disparity(max_disparity: float | None, sensitive_feature: str | None) -> None:
    """Refuse a max_disparity the gate cannot apply."""
    if max_disparity is None:
        return
    if not math.isfinite(max_disparity) or max_disparity < 0:
        raise DataError(f"max_disparity: expected a number >= 0, got {max_disparity}")
    if sensitive_feature is None:
        raise DataError("max_disparity: needs a sensitive_feature whose groups it compares; give one or leave it out")


def _disparity_check(disparity: Mapping[str, Any]) -> dict[str, Any]:
    name, metric, value, bound = "max_disparity", disparity["metric"], disparity["value"], disparity["max"]
    over = f"{metric} over {disparity['sensitive_feature']}"
    if value is None:
        return _check(name, False, f"{over} could not be computed on the test split (a group lacks the rows it needs)")
    ok = value <= bound + TOLERANCE
    return _check(name, ok, f"{over} {value:.4f} {'<=' if ok else '>'} max_disparity {bound:g}")


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "detail": detail}
