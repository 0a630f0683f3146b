"""A sweep's `early_termination` policy, as Azure ML defines it, applied by the local target to running trials.

An interval is one value of the primary metric logged by a trial (its k-th value is interval k). A policy is
applied to a trial at interval k when k >= `delay_evaluation` and k is a multiple of `evaluation_interval` (0 and
1 both mean every interval). What a trial "has at interval k" is its best value over intervals 1..k; the trials
compared are all trials of the sweep, running or finished, that have reached interval k.

- `bandit`: cancel the trial when its value is not within the slack of the best trial's: for `maximize`, below
  best / (1 + slack_factor) or below best - slack_amount; for `minimize`, above best * (1 + slack_factor) or above
  best + slack_amount. (Azure's example: best 0.8, slack_factor 0.2 cancels below 0.8 / 1.2 = 0.67.)
- `median_stopping`: cancel the trial when its value is worse than the median of the trials' running averages
  over intervals 1..k.
- `truncation_selection`: cancel the trial when it is among the lowest `truncation_percentage` percent of the
  trials at interval k (the number cancelled is rounded down, so a handful of trials may cancel none).

Optuna's pruners implement different rules; these are Azure's. A cancelled trial is stopped (its process group)
and its MLflow run ends KILLED, like a Canceled trial on Azure; it still counts as a trial, and a value it logged
before can still make it the best.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from mlops.errors import MlopsError

TYPES = ("bandit", "median_stopping", "truncation_selection")


@dataclass(frozen=True)
class Policy:
    type: str
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    slack_factor: float = 0.0
    slack_amount: float = 0.0
    truncation_percentage: int = 0

    @classmethod
    def of(cls, policy: Any, where: str) -> Policy:
        kind = str(getattr(policy, "type", "") or "").lower()
        if kind not in TYPES:
            raise MlopsError(f"{where}early_termination.type: {kind or 'missing'}; expected one of {', '.join(TYPES)}")
        made = cls(
            kind,
            int(getattr(policy, "evaluation_interval", 0) or 0),
            int(getattr(policy, "delay_evaluation", 0) or 0),
            float(getattr(policy, "slack_factor", 0) or 0),
            float(getattr(policy, "slack_amount", 0) or 0),
            int(getattr(policy, "truncation_percentage", 0) or 0),
        )
        if made.evaluation_interval < 0 or made.delay_evaluation < 0:
            raise MlopsError(f"{where}early_termination: evaluation_interval and delay_evaluation must be >= 0")
        if kind == "bandit" and made.slack_factor <= 0 and made.slack_amount <= 0:
            raise MlopsError(f"{where}early_termination: a bandit policy needs slack_factor or slack_amount > 0")
        if kind == "truncation_selection" and not 1 <= made.truncation_percentage <= 99:
            raise MlopsError(f"{where}early_termination.truncation_percentage: expected 1 to 99")
        return made

    def applies_at(self, interval: int) -> bool:
        every = max(self.evaluation_interval, 1)
        return interval >= max(self.delay_evaluation, 1) and interval % every == 0

    def cancels(self, trial: int, histories: dict[int, list[float]], goal: str) -> bool:
        """Whether the policy cancels `trial` at its latest interval, given every trial's metric history."""
        interval = len(histories.get(trial) or [])
        if interval == 0 or not self.applies_at(interval):
            return False
        maximize = goal == "maximize"
        best = max if maximize else min
        best_by_trial = {t: best(values[:interval]) for t, values in histories.items() if len(values) >= interval}
        mine = best_by_trial[trial]
        if self.type == "bandit":
            leader = best(best_by_trial.values())
            if maximize:
                floor = max(
                    leader / (1 + self.slack_factor) if self.slack_factor else -math.inf,
                    leader - self.slack_amount if self.slack_amount else -math.inf,
                )
                return mine < floor
            ceiling = min(
                leader * (1 + self.slack_factor) if self.slack_factor else math.inf,
                leader + self.slack_amount if self.slack_amount else math.inf,
            )
            return mine > ceiling
        if self.type == "median_stopping":
            averages = [statistics.fmean(values[:interval]) for values in histories.values() if len(values) >= interval]
            median = statistics.median(averages)
            return mine < median if maximize else mine > median
        ranked = sorted(best_by_trial, key=lambda t: best_by_trial[t], reverse=not maximize)  # worst first
        cut = math.floor(len(ranked) * self.truncation_percentage / 100)
        return trial in ranked[:cut]
