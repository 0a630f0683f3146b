"""Warm start for pipeline steps: a step's `python SCRIPT.py ...` runs in a Python that has already imported the
heavy libraries, started while the previous step ran.

Roughly two thirds of a local pipeline used to be interpreter start-up: every step imports pandas, scikit-learn
and MLflow (and loading a model through skops imports all of scikit-learn), 2-4 s each. A `WarmPool` keeps up to
AHEAD spare processes (`guard/warm_python.py`) that import them ahead of time; a step takes the oldest and the pool
starts the next, which imports on the other core while the step runs. Nothing the executor promises changes: the
spare is started exactly like a step (`processes.start_group`: a session of its own, the parent-death signal, a
keeper), in the sandbox's environment (the project package still cannot be imported), and it becomes the step's
process - its own working folder, environment, `sys.argv` and `sys.path[0]` - before running the script, so
supervision, signals, exit codes and MLflow runs are those of a plain subprocess.

A step runs as a plain subprocess instead when its command is not one `python SCRIPT.py ARGS` (bash syntax, `-m`,
other programs), when its `python` is not this Python (`--build-envs` venvs), when its environment differs from
the spare's in a variable a library may read at import (its YAML's `environment_variables`, say), or when
`MLOPS_WARM_START=0` asks for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from mlops.targets.local.processes import start_group, stop_group
from mlops.targets.local.sandbox import GUARD_DIR

LAUNCHER = GUARD_DIR / "warm_python.py"
# Imported ahead of time: slow, with no side effects a step could notice. skops.io imports every scikit-learn
# estimator (it lists the types it trusts), which is most of what loading a registered model costs.
PRELOAD = ("numpy", "pandas", "scipy.stats", "sklearn", "sklearn.pipeline", "skops.io", "mlflow", "mlflow.sklearn")
SWITCH = "MLOPS_WARM_START"
AHEAD = 2  # spares importing at once, at most: two cores here (see WarmPool.ahead)
SHELL_CHARACTERS = set("$`\\;&|<>(){}*?[]~#\"'!\n")


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def script_argv(command: str, env: Mapping[str, str]) -> list[str] | None:
    """[SCRIPT, ARGS...] when `command` is one plain `python SCRIPT.py ARGS` run by this Python; else None."""
    if any(character in SHELL_CHARACTERS for character in command):  # quoting, variables, redirections: bash's
        return None
    words = shlex.split(command)
    if len(words) < 2 or words[0] not in ("python", "python3") or not words[1].endswith(".py"):
        return None
    found = shutil.which(words[0], path=env.get("PATH", ""))
    if found is None or os.path.realpath(found) != os.path.realpath(sys.executable):
        return None
    return words[1:]


class WarmPool:
    """Spare pre-started Pythons, oldest first (see the module docstring). Use from the thread that starts steps."""

    def __init__(self, base_env: Mapping[str, str], late_keys: Collection[str], preload: Sequence[str] = PRELOAD):
        """`base_env`: the sandbox environment the spares start in; `late_keys`: the variables the engine sets per
        step that the pre-loaded libraries read only when called (MLflow's run and store, say), so a step whose
        environment differs from `base_env` only in those may take a spare."""
        self.base_env = dict(base_env)
        self.late_keys = frozenset(late_keys)
        self.preload = tuple(preload)
        self.spares: list[subprocess.Popen] = []
        # How many spares to keep importing after one is taken: the steps still to come that may take one, at most
        # AHEAD (importing takes longer than most steps run, so one spare alone would keep the next step waiting).
        self.ahead = AHEAD

    def fits(self, env: Mapping[str, str]) -> bool:
        keys = set(env) | set(self.base_env)
        return all(env.get(k) == self.base_env.get(k) for k in keys - self.late_keys)

    def warm_up(self, count: int = 1) -> None:
        """Have `count` spares (at least), starting the missing ones now, so that they import while something
        else runs."""
        self.spares = [spare for spare in self.spares if spare.poll() is None]
        while len(self.spares) < count:
            self.spares.append(
                start_group(
                    [sys.executable, str(LAUNCHER), *self.preload],
                    cwd=str(LAUNCHER.parent),
                    env=self.base_env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    errors="replace",
                )
            )

    def start(self, argv: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.Popen | None:
        """The oldest spare, now running `python ARGV` in `cwd` with `env`; None when it cannot (the caller starts
        a plain subprocess). Its output, like a step's own, is one text stream on stdout."""
        self.warm_up()
        process = self.spares.pop(0)
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": dict(env)}) + "\n")
            process.stdin.close()
        except OSError:  # it died while importing: a plain subprocess will tell the step's own story
            stop_group(process, grace=0)
            return None
        self.warm_up(self.ahead)  # they import on the other core while this step runs
        return process

    def close(self) -> None:
        """Stop the spares left (a released spare exits by itself; this makes sure, by PID)."""
        spares, self.spares = self.spares, []
        for process in spares:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            stop_group(process, grace=2.0)
