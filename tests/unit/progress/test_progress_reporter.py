"""The progress reporter (mlops.progress): plain periodic lines off a terminal, one redrawn line on it.

A fake clock moves time; a fake stream says whether it is a terminal."""

from __future__ import annotations

import io
import threading

import pytest

from mlops.errors import MlopsError
from mlops.progress import ERASE_LINE, Progress, duration, interval_from_env


class FakeStream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("NO_COLOR", "TERM", "MLOPS_PROGRESS_INTERVAL"):
        monkeypatch.delenv(name, raising=False)


def lines(stream: FakeStream) -> list[str]:
    return stream.getvalue().splitlines()


def test_off_a_terminal_it_writes_a_first_line_then_at_most_one_per_interval_then_a_last_line():
    stream, clock = FakeStream(tty=False), FakeClock()
    progress = Progress("tune", total=8, unit="trial", stream=stream, clock=clock, interval=10)
    for value in range(8):  # a trial every 4 s: 32 s in all
        clock.now += 4
        progress.advance(note=f"best auc 0.{80 + value}")
    progress.close()
    assert lines(stream) == [
        "tune: 0/8 trials, 0 s elapsed",
        "tune: 3/8 trials, 12 s elapsed, ETA 20 s, best auc 0.82",
        "tune: 6/8 trials, 24 s elapsed, ETA 8 s, best auc 0.85",
        "tune: 8/8 trials in 32 s, best auc 0.87",
    ]
    assert "\r" not in stream.getvalue() and "\033" not in stream.getvalue()


def test_off_a_terminal_a_refresh_shows_the_time_moving_on_without_any_change():
    stream, clock = FakeStream(tty=False), FakeClock()
    progress = Progress("window", total=None, unit="signal", stream=stream, clock=clock, interval=10)
    for _ in range(25):  # 25 s of polling once a second
        clock.now += 1
        progress.refresh()
    assert lines(stream) == ["window: 0 signals, 0 s elapsed", "window: 0 signals, 10 s elapsed",
                             "window: 0 signals, 20 s elapsed"]  # fmt: skip


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLOPS_PROGRESS_INTERVAL", "2.5")
    assert interval_from_env() == 2.5
    stream, clock = FakeStream(tty=False), FakeClock()
    progress = Progress("tune", total=4, unit="trial", stream=stream, clock=clock)
    clock.now += 2.5
    progress.advance()
    assert len(lines(stream)) == 2


@pytest.mark.parametrize("text", ["soon", "-1", "nan"])
def test_a_bad_interval_in_the_environment_names_the_variable(monkeypatch, text):
    monkeypatch.setenv("MLOPS_PROGRESS_INTERVAL", text)
    with pytest.raises(MlopsError, match=r"MLOPS_PROGRESS_INTERVAL: expected a number of seconds >= 0"):
        interval_from_env()


def test_on_a_terminal_it_redraws_one_line_at_most_ten_times_a_second_and_ends_it_with_a_newline():
    stream, clock = FakeStream(tty=True), FakeClock()
    progress = Progress("tune", total=100, unit="trial", stream=stream, clock=clock)
    for _ in range(100):  # 100 updates in 1 s
        clock.now += 0.01
        progress.advance()
    progress.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    redraws = text.count(ERASE_LINE)
    assert 10 <= redraws <= 12  # the first, one per 0.1 s, the last
    last = text.rstrip("\n").rsplit(ERASE_LINE, 1)[1]
    assert last.startswith("tune  [####################]  100/100 trials")


def test_on_a_terminal_clear_erases_the_line_and_the_next_update_draws_it_at_once():
    stream, clock = FakeStream(tty=True), FakeClock()
    progress = Progress("tune", total=4, unit="trial", stream=stream, clock=clock)
    progress.clear()
    stream.write("    trial 0: {} -> completed\n")
    progress.advance()  # at the same instant: a redraw would be throttled, but the line was cleared
    before, after = stream.getvalue().split("    trial 0: {} -> completed\n")
    assert before.endswith(ERASE_LINE)
    assert after.startswith(ERASE_LINE + "tune  [#####---------------]  1/4 trials")


@pytest.mark.parametrize("variable", [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_or_a_dumb_terminal_gets_plain_lines(monkeypatch, variable):
    monkeypatch.setenv(*variable)
    stream = FakeStream(tty=True)
    with Progress("tune", total=2, unit="trial", stream=stream, clock=FakeClock()) as progress:
        progress.advance()
    assert "\r" not in stream.getvalue()
    assert lines(stream) == ["tune: 0/2 trials, 0 s elapsed", "tune: 1/2 trials in 0 s"]


def test_with_a_delay_short_work_prints_nothing_and_long_work_starts_after_it():
    stream, clock = FakeStream(tty=False), FakeClock()
    with Progress("quick", total=3, unit="signal", stream=stream, clock=clock, delay=2) as progress:
        clock.now += 1
        progress.advance()
    assert stream.getvalue() == ""
    with Progress("slow", total=3, unit="signal", stream=stream, clock=clock, delay=2, interval=10) as progress:
        clock.now += 3
        progress.advance(note="data_drift")
    assert lines(stream) == [
        "slow: 1/3 signals, 3 s elapsed, ETA 6 s, data_drift",
        "slow: 1/3 signals in 3 s, data_drift",
    ]


def test_close_is_idempotent_and_nothing_shows_after_it():
    stream = FakeStream(tty=False)
    progress = Progress("tune", total=2, unit="trial", stream=stream, clock=FakeClock())
    progress.close()
    progress.close()
    progress.advance()
    assert lines(stream) == ["tune: 0/2 trials, 0 s elapsed", "tune: 0/2 trials in 0 s"]


@pytest.mark.parametrize("tty", [False, True])
def test_an_exception_in_the_with_block_leaves_no_last_line_and_ends_a_drawn_line(tty):
    stream = FakeStream(tty=tty)
    with pytest.raises(RuntimeError), Progress("tune", total=2, unit="trial", stream=stream, clock=FakeClock()):
        raise RuntimeError("boom")
    if tty:
        assert stream.getvalue().count(ERASE_LINE) == 1 and stream.getvalue().endswith("\n")
    else:
        assert lines(stream) == ["tune: 0/2 trials, 0 s elapsed"]


def test_updates_from_several_threads_are_all_counted():
    stream = FakeStream(tty=False)
    progress = Progress("rows", unit="row", stream=stream, interval=0)
    workers = [threading.Thread(target=lambda: [progress.advance() for _ in range(500)]) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    progress.close()
    assert lines(stream)[-1].startswith("rows: 2000 rows in ")
    assert all(line.startswith("rows: ") for line in lines(stream))  # no line written into another


def test_a_closed_stream_does_not_fail_the_work():
    stream = FakeStream(tty=False)
    progress = Progress("tune", total=2, stream=stream, clock=FakeClock())
    stream.close()
    progress.advance()
    progress.close()


def test_durations_read_as_seconds_minutes_hours():
    assert [duration(s) for s in (0.4, 41, 125, 3720)] == ["0 s", "41 s", "2 min 05 s", "1 h 02 min"]
