"""Progress of long work: one line redrawn in place on a terminal, plain periodic lines anywhere else.

    from mlops.progress import Progress

    with Progress("tune", total=8, unit="trial") as progress:   # writes to sys.stderr
        for ...:
            progress.advance(note="best validation_roc_auc 0.83")  # one more done; the note is shown after the counts
        progress.set(5)       # or: how many are done so far (the note stays unless a new one is given)
        progress.refresh()    # no change, but elapsed time moves on (call it from a polling loop)
        progress.clear()      # before printing anything else to the terminal; the next update redraws the bar
    # leaving the `with` calls progress.close() (the last line), or on an exception progress.abandon() (no line)

`Progress(label, total=None, unit="item", stream=None, *, interval=None, delay=0.0, clock=time.monotonic,
tty=None)`:
- `total`: how many there will be; without it there is no bar and no ETA, only the count.
- `unit`: what is counted, singular ("trial", "file", "signal"); an "s" is added for the plural.
- `stream`: where it writes (default: sys.stderr at the time of the call).
- On a TTY: `label [####----] 3/8 trials 14 s/trial 41 s ETA 1 min 10 s best ...` (a fast rate: `2.5 trials/s`),
  redrawn with `\\r` at most `REDRAW_S` apart, cut to the terminal's width; `close()` leaves it on its own line.
- Anywhere else (CI, a pipe, a log file, pytest's capture), or with `NO_COLOR` set or `TERM=dumb`: plain lines
  `label: 3/8 trials, 41 s elapsed, ETA 1 min 05 s, best ...`, the first when the work starts, then at most one
  every `interval` seconds (default 10, or `MLOPS_PROGRESS_INTERVAL`; 0: one per update), and a last one from
  `close()`: `label: 8/8 trials in 1 min 50 s, best ...`. Never a `\\r` or an escape code.
- `delay`: show nothing until the work has run this many seconds (short work stays quiet; a `close()` before then
  prints nothing at all).
- `clock` and `tty` are for tests (a fake clock; force the TTY or the plain form).
All methods are thread-safe; after `close()` or `abandon()` (either, once) updates show nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from mlops.errors import MlopsError

INTERVAL_ENV = "MLOPS_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 10.0  # between plain lines
REDRAW_S = 0.1  # between redraws of the line on a terminal: at most ~10 a second
BAR_WIDTH = 20
DEFAULT_WIDTH = 80  # of a terminal that does not say
ERASE_LINE = "\r\033[K"


def interval_from_env() -> float:
    """Seconds between plain progress lines: MLOPS_PROGRESS_INTERVAL, or 10."""
    text = os.environ.get(INTERVAL_ENV, "").strip()
    if not text:
        return DEFAULT_INTERVAL_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise MlopsError(f"{INTERVAL_ENV}: expected a number of seconds >= 0, got {text!r}")
    return seconds


def redraws_in_place(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal that takes a line redrawn with `\\r` (not with NO_COLOR or TERM=dumb)."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def duration(seconds: float) -> str:
    """`41 s`, `2 min 05 s`, `1 h 02 min`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _plural(unit: str) -> str:
    return unit if not unit or unit.endswith("s") else unit + "s"


class Progress:
    """See the module docstring."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "item",
        stream: IO[str] | None = None,
        *,
        interval: float | None = None,
        delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval_from_env() if interval is None else interval
        self.delay = delay
        self.clock = clock
        self.tty = redraws_in_place(self.stream) if tty is None else tty
        self.done = 0
        self.note = ""
        self.started = clock()
        self.last_shown: float | None = None  # when a line was last written or redrawn
        self.on_screen = False  # TTY: the line is drawn and the cursor is at its end
        self.closed = False
        self._lock = threading.Lock()
        self._show(final=False)

    def advance(self, n: int = 1, note: str | None = None) -> None:
        """`n` more done (0: nothing new, but the time moves on); `note` replaces the note when given."""
        with self._lock:
            self.done += n
            self._update(note)

    def set(self, done: int, note: str | None = None) -> None:
        """`done` so far; `note` replaces the note when given."""
        with self._lock:
            self.done = done
            self._update(note)

    def refresh(self) -> None:
        """Show the time moving on, when it is time to (nothing changed)."""
        self.advance(0)

    def clear(self) -> None:
        """On a terminal, erase the line so other output starts at the left; the next update redraws it."""
        with self._lock:
            if self.tty and self.on_screen:
                self._write(ERASE_LINE)
                self.on_screen = False

    def close(self, note: str | None = None) -> None:
        """The last line (nothing if nothing was shown yet because of `delay`). Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if note is not None:
                self.note = note
            if self.last_shown is not None:
                self._show(final=True)

    def __enter__(self) -> Progress:
        return self

    def abandon(self) -> None:
        """Stop without a last line (the work failed and its error says why); on a terminal, end the line so the
        error starts on its own."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self.tty and self.on_screen:
                self._write("\n")
                self.on_screen = False

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def _update(self, note: str | None) -> None:
        if note is not None:
            self.note = note
        if not self.closed:
            self._show(final=False)

    def _show(self, final: bool) -> None:
        now = self.clock()
        if not final:
            if now - self.started < self.delay:
                return
            if self.last_shown is not None and now - self.last_shown < self._wait():
                return
        self.last_shown = now
        if self.tty:
            self._write(ERASE_LINE + self._fit(self._bar_line(now)) + ("\n" if final else ""))
            self.on_screen = not final
        else:
            self._write(self._plain_line(now, final) + "\n")

    def _wait(self) -> float:
        """Seconds to leave between two lines: the plain form's interval; on a terminal, a redraw's (none when the
        line was cleared: it comes back at once)."""
        if not self.tty:
            return self.interval
        return REDRAW_S if self.on_screen else 0.0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: progress is not worth failing the work for
            pass

    def _count(self) -> str:
        unit = _plural(self.unit) if self.total != 1 or self.done != 1 else self.unit
        counted = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        return f"{counted} {unit}".rstrip()

    def _eta(self, elapsed: float) -> str | None:
        if self.total is None or self.done <= 0 or self.done >= self.total or elapsed <= 0:
            return None
        return duration((self.total - self.done) * elapsed / self.done)

    def _plain_line(self, now: float, final: bool) -> str:
        elapsed = now - self.started
        if final:
            parts = [f"{self._count()} in {duration(elapsed)}"]
        else:
            parts = [f"{self._count()}, {duration(elapsed)} elapsed"]
        eta = None if final else self._eta(elapsed)
        if eta:
            parts.append(f"ETA {eta}")
        if self.note:
            parts.append(self.note)
        return f"{self.label}: " + ", ".join(parts)

    def _bar_line(self, now: float) -> str:
        elapsed = now - self.started
        parts = [self.label]
        if self.total:
            filled = min(BAR_WIDTH, BAR_WIDTH * max(self.done, 0) // self.total)
            parts.append("[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]")
        parts.append(self._count())
        if self.done > 0 and elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:.1f} {_plural(self.unit)}/s" if rate >= 1 else f"{1 / rate:.0f} s/{self.unit}")
        parts.append(duration(elapsed))
        eta = self._eta(elapsed)
        if eta:
            parts.append(f"ETA {eta}")
        if self.note:
            parts.append(self.note)
        return "  ".join(parts)

    def _fit(self, line: str) -> str:
        """The line cut to the terminal's width, so it never wraps (a wrapped line is not redrawn by `\\r`)."""
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            width = 0
        if width <= 0:  # not known (a pseudo-terminal without a size, a fake stream)
            columns = os.environ.get("COLUMNS", "")
            width = int(columns) if columns.isdigit() and int(columns) > 0 else DEFAULT_WIDTH
        return line if len(line) < width else line[: max(width - 4, 1)] + "..."
