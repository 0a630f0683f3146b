"""The retrain rule (at least M of the last N runs breached AND the latest did) and the JSONL history."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.monitoring.errors import MonitorInputError
from mlops.monitoring.history import append_history, read_history, retrain_flags, should_retrain

B, G = True, False  # breached, good

CASES = [
    # (history oldest -> newest, M, N, retrain)
    ([], 2, 3, False),
    ([B], 1, 3, True),
    ([B], 2, 3, False),  # fewer runs than M
    ([B, B], 2, 3, True),
    ([B, G], 2, 3, False),  # latest did not breach
    ([B, G, B], 2, 3, True),
    ([B, G, G, B], 2, 3, False),  # the old breach fell out of the last 3
    ([B, B, G, G, B], 2, 3, False),
    ([G, B, B, B], 3, 3, True),
    ([B, B, G, B], 3, 3, False),
    ([G, G, G, B], 1, 1, True),
    ([B, B, B, G], 1, 1, False),
    ([B, B, B, B, B, G, B], 5, 7, True),
    ([B, G, B, G, B, G, B], 5, 7, False),
]


@pytest.mark.parametrize(("history", "m", "n", "expected"), CASES)
def test_m_of_n_rule(history: list[bool], m: int, n: int, expected: bool) -> None:
    assert should_retrain(history, m, n) is expected


@pytest.mark.parametrize(("m", "n"), [(0, 3), (4, 3), (-1, -1)])
def test_rule_needs_1_le_m_le_n(m: int, n: int) -> None:
    with pytest.raises(ValueError, match="1 <= M <= N"):
        should_retrain([True], m, n)


def test_history_round_trip_and_flags_per_signal(tmp_path: Path) -> None:
    append_history(tmp_path, {"monitor": "a", "window": "w1", "breached_signals": {"data_drift": ["bmi"]}})
    append_history(tmp_path, {"monitor": "other", "window": "x", "breached_signals": {"data_drift": ["bmi"]}})
    append_history(tmp_path, {"monitor": "a", "window": "w2", "breached_signals": {"data_quality": ["bmi"]}})
    entries = read_history(tmp_path, "a")
    assert [e["window"] for e in entries] == ["w1", "w2"]
    assert retrain_flags(entries, ["data_drift", "prediction_drift"]) == [True, False]
    assert len(read_history(tmp_path)) == 3
    assert read_history(tmp_path / "missing") == []


def test_corrupt_history_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "monitor_history.jsonl").write_text('{"monitor": "a"}\nnot json\n')
    with pytest.raises(MonitorInputError, match=r"monitor_history.jsonl:2"):
        read_history(tmp_path)
