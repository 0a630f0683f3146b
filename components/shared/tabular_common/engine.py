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
from collections.abc import Iterator
from pathlib import Path

from tabular_common.errors import DataError

ENGINE_PID = "MLOPS_ENGINE_PID"
REGISTRY_LOCK = "MLOPS_REGISTRY_LOCK"


class EngineGone(RuntimeError):
    """The engine that started this step is no longer running."""


def engine_alive(environ: dict[str, str] | None = None) -> bool:
    """True when no engine PID was given (Azure) or that process still exists and is still our parent line."""
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
def registry_lock(environ: dict[str, str] | None = None) -> Iterator[None]:
    """Hold the local registry lock (MLOPS_REGISTRY_LOCK) for the block; without the variable, do nothing."""
    value = (environ if environ is not None else os.environ).get(REGISTRY_LOCK)
    if not value:
        yield
        return
    import fcntl  # POSIX only; the local engine runs steps on Linux and macOS

    path = Path(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
