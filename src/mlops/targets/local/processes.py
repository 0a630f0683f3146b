"""Child processes that never outlive `mlops`: pipeline steps, batch scoring workers and inference servers.

Each is started by `start_group` as the leader of a session (process group) of its own, so a Ctrl-C in the terminal
reaches `mlops` only and `mlops` decides what to stop, and it is always stopped as a whole group. Two safeguards
cover the case where `mlops` cannot stop anything because it was SIGKILLed:

- the parent-death signal (Linux prctl PR_SET_PDEATHSIG = SIGKILL): the kernel kills the leader at once;
- a keeper: a tiny `/bin/sh` in a session of its own, blocked reading a pipe only `mlops` holds. When `mlops` ends
  without releasing it (any death closes the pipe), the keeper SIGKILLs the whole group: what a compound
  command's bash, a scoring script or a server started goes too, on any POSIX system.

A group is released (`end_group`, `stop_group`) while its leader is not yet reaped, so its id is still ours; the
keeper is told `done` afterwards and signals nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from mlops.errors import STOP_SIGNALS

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
KEEPER = 'read -r line; [ "$line" = done ] || kill -s KILL -- "-$1" 2>/dev/null'
KEEPER_EXIT_WAIT_S = 5.0

_keepers: dict[int, subprocess.Popen] = {}  # group id -> its keeper


def start_group(args: Sequence[str], **popen: Any) -> subprocess.Popen:
    """`subprocess.Popen(args, **popen)` as the leader of a new session, with the parent-death signal and a
    keeper. Start groups from one thread (the parent-death signal is tied to the starting thread).

    SIGINT, SIGTERM and SIGHUP are held while the two forks happen: a stop signal whose Python handler ran inside
    an at-fork hook (logging registers one) would be printed as "Exception ignored" and lost, and `mlops` would
    go on. Held, it is handled when this returns - and the group just started is stopped with it."""
    held = _hold_stop_signals()
    process = None
    try:
        process = subprocess.Popen(args, start_new_session=True, preexec_fn=_child_setup(held), **popen)
        _keepers[process.pid] = subprocess.Popen(
            ["/bin/sh", "-c", KEEPER, "mlops-group-keeper", str(process.pid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C must not end the keeper before it is needed
            preexec_fn=_child_setup(held, parent_death=False),
        )
        _release_stop_signals(held)  # a stop signal that came meanwhile is handled here
    except BaseException:
        if process is not None:
            stop_group(process, grace=0)
        _release_stop_signals(held)
        raise
    return process


def _hold_stop_signals() -> set[int] | None:
    """Block the stop signals in this thread; the mask before, or None where signal masks are not available."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _release_stop_signals(held: set[int] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _child_setup(held: set[int] | None, parent_death: bool = True) -> Callable[[], None] | None:
    """The child's `preexec_fn`: the signal mask it would have had (a blocked mask survives exec), and the
    parent-death signal (`die_with_parent`)."""
    dies = die_with_parent() if parent_death else None
    if held is None:
        return dies

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if dies is not None:
            dies()

    return setup


def end_group(process: subprocess.Popen) -> int:
    """The leader has exited by itself: kill what it left running in its group, reap it, release the keeper; its
    exit code."""
    wait_for_exit(process, None)
    _signal_group(process, signal.SIGKILL)
    code = process.wait()
    _release_keeper(process)
    return code


def stop_group(process: subprocess.Popen, grace: float) -> None:
    """Stop the group `process` leads: SIGTERM, up to `grace` seconds for the leader to exit, then SIGKILL to
    whatever is left, then reap the leader and release the keeper. By PID, never by name."""
    if process.returncode is None:  # once reaped, its group id may belong to someone else
        _signal_group(process, signal.SIGTERM)
        wait_for_exit(process, grace)
        _signal_group(process, signal.SIGKILL)
        process.wait()
    _release_keeper(process)


def _release_keeper(process: subprocess.Popen) -> None:
    keeper = _keepers.pop(process.pid, None)
    if keeper is None:
        return
    with contextlib.suppress(OSError):  # BrokenPipeError: the keeper is gone already
        assert keeper.stdin is not None
        keeper.stdin.write(b"done\n")
        keeper.stdin.close()
    try:
        keeper.wait(KEEPER_EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        keeper.kill()
        keeper.wait()


@functools.cache
def _prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to SIGKILL the child when this process (the thread that starts it) dies, even
    by SIGKILL; None where there is no prctl (the keeper still stops the group there)."""
    prctl = _prctl() if sys.platform.startswith("linux") else None
    if prctl is None:
        return None
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect: nobody would signal us
            os.kill(os.getpid(), signal.SIGKILL)

    return set_parent_death_signal


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the group while its leader is unreaped (at worst a zombie), so the group id is still ours."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is empty
        os.killpg(process.pid, signum)


def exited(process: subprocess.Popen) -> bool:
    """Has the leader exited? Without reaping it where the platform allows, so its group can still be signalled."""
    if process.returncode is not None:
        return True
    if not hasattr(os, "waitid"):
        return process.poll() is not None
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
    except ChildProcessError:
        return True


def wait_for_exit(process: subprocess.Popen, timeout: float | None) -> None:
    """Wait (at most `timeout` seconds; None: as long as it takes) until the leader has exited, without reaping it
    where the platform allows (waitid WNOWAIT)."""
    if not hasattr(os, "waitid"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        flags = os.WEXITED | os.WNOWAIT | (0 if deadline is None else os.WNOHANG)
        try:
            if os.waitid(os.P_PID, process.pid, flags) is not None:
                return
        except ChildProcessError:  # reaped already
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        time.sleep(0.05)
