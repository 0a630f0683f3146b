"""One line per monitoring run in a JSONL file, and the retrain rule: at least M of the last N runs breached AND the
latest one did (the trigger Databricks MLOps Stacks uses)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.jsonl import read_json_lines
from mlops.monitoring.errors import MonitorInputError

HISTORY_FILE = "monitor_history.jsonl"


def history_path(history_dir: Path | str) -> Path:
    return Path(history_dir) / HISTORY_FILE


def append_history(history_dir: Path | str, entry: Mapping[str, Any]) -> Path:
    """Append one run's summary (timestamp, monitor, window, breached signals and features) as a JSON line."""
    path = history_path(history_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(entry), sort_keys=True) + "\n")
    return path


def read_history(history_dir: Path | str, monitor: str | None = None) -> list[dict[str, Any]]:
    """Entries oldest first, only `monitor`'s when given. A missing file is an empty history."""
    path = history_path(history_dir)
    if not path.exists():
        return []
    try:
        records = read_json_lines(path)
    except MlopsError as exc:
        raise MonitorInputError(str(exc)) from exc
    return [entry for _, entry in records if monitor is None or entry.get("monitor") == monitor]


def retrain_flags(entries: Iterable[Mapping[str, Any]], signals: Sequence[str]) -> list[bool]:
    """For each run that counts: did one of `signals` breach (with alerts on)?

    A run counts when at least one of `signals` was evaluated on it (`evaluated_signals`); a window too small to
    judge (every retrain signal "not enough data" or skipped) says nothing either way and is left out. Entries
    written before `evaluated_signals` existed always count.
    """
    return [
        any(name in (entry.get("breached_signals") or {}) for name in signals)
        for entry in entries
        if counts(entry, signals)
    ]


def counts(entry: Mapping[str, Any], signals: Sequence[str]) -> bool:
    """Whether a history entry counts towards the retrain rule over `signals`."""
    evaluated = entry.get("evaluated_signals")
    return evaluated is None or any(name in evaluated for name in signals)


def should_retrain(history: Sequence[bool], m: int, n: int) -> bool:
    """True when at least `m` of the last `n` runs breached AND the latest one breached (oldest first).

    With fewer than `n` runs so far, the runs there are count: M of them must have breached.
    """
    if not 1 <= m <= n:
        raise ValueError(f"the retrain rule needs 1 <= M <= N, got M={m}, N={n}")
    window = list(history)[-n:]
    return bool(window) and bool(window[-1]) and sum(map(bool, window)) >= m
