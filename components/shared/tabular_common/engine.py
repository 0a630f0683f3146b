"""What a step knows of the engine that started it, and the registry lock it shares with other runs.

The local executor (`mlops`) passes two variables to every step; Azure ML passes neither, so on Azure both
functions below do nothing and the rule there is the one in `registry.py` (the newest champion wins):

- MLOPS_ENGINE_PID: the `mlops` process that runs the pipeline. A step whose engine has died (SIGKILL, a crash)
  must not go on to change the registry: nobody would record, cache or report what it did.
  `check_engine_alive()` is called right before every registry change.
- MLOPS_REGISTRY_LOCK: a lock file in the local state folder. `registry_lock()` holds it (an exclusive `flock`)
  while a step reads the champion and changes it, so concurrent local runs promote one after the other.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from tabular_common.errors import DataError

ENGINE_PID = "MLOPS_ENGINE_PID"
REGISTRY_LOCK = "MLOPS_REGISTRY_LOCK"
EXIT_ENGINE_GONE = 1  # a failure, not bad input (that is errors.EXIT_BAD_INPUT, 2)


class EngineGone(RuntimeError):
    """The engine that started this step is no longer running."""


def engine_alive(environ: dict[str, str] | None = None) -> bool:
    """True when no engine PID was given (Azure) or that process still exists (one of another user is a reused
    PID, not our engine)."""
    value = (environ if environ is not None else os.environ).get(ENGINE_PID)
    if not value:
        return True
    try:
        pid = int(value)
    except ValueError:
        raise DataError(f"{ENGINE_PID}: expected a process id, got {value!r}") from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: not our engine (the PID was reused)
        return False
    return True


def check_engine_alive(environ: dict[str, str] | None = None) -> None:
    """Raise EngineGone when the engine (MLOPS_ENGINE_PID) has died; call before changing the registry."""
    if not engine_alive(environ):
        value = (environ if environ is not None else os.environ).get(ENGINE_PID)
        raise EngineGone(f"the mlops engine (pid {value}) that started this step has exited; not changing the registry")


@contextlib.contextmanager
def registry_lock(environ: dict[str, str] | None = None, echo: Callable[[str], object] = print) -> Iterator[None]:
    """Hold the local registry lock (MLOPS_REGISTRY_LOCK) for the block; without the variable, do nothing.

    When another run holds it, say so once (`echo`) and wait: a register step holds it for seconds, and the kernel
    releases the lock of a process that dies."""
    value = (environ if environ is not None else os.environ).get(REGISTRY_LOCK)
    if not value:
        yield
        return
    import fcntl  # POSIX only; the local engine runs steps on Linux and macOS

    path = Path(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            echo(f"waiting for the registry lock {path} (another run is changing the champion)")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
