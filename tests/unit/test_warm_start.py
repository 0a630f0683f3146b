"""Warm start (mlops.targets.local.warm): which commands may run in a pre-started Python, and that a script run
there sees exactly what `python SCRIPT ARGS` would give it - argv, working folder, environment, sys.path, __file__,
stdin, exit code, traceback, the project-package guard - and that an unused spare is stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from mlops.targets.local.processes import end_group
from mlops.targets.local.sandbox import sandbox_environment
from mlops.targets.local.warm import PRELOAD, WarmPool, script_argv

ENV = sandbox_environment()
LATE = {"MLFLOW_RUN_ID"}

PROBE = textwrap.dedent(
    """
    import json, os, sys
    print(json.dumps({
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "file": __file__,
        "name": __name__,
        "run_id": os.environ.get("MLFLOW_RUN_ID"),
        "stdin": sys.stdin.read(),
        "pythonpath": os.environ.get("PYTHONPATH"),
    }))
    """
)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python train.py --a 1 --b /x/y", ["train.py", "--a", "1", "--b", "/x/y"]),
        ("python3 src/score.py", ["src/score.py"]),
        ("python -m pkg.main", None),  # a module, not a script
        ("python train.py > out.txt", None),  # redirection: bash's
        ("python train.py && python other.py", None),
        ("python train.py --name $HOME", None),  # expansion: bash's
        ("python 'my script.py'", None),  # quoting: bash's
        ("bash run.sh", None),
        ("python", None),
    ],
)
def test_only_one_plain_python_script_command_may_be_warm_started(command, expected):
    assert script_argv(command, ENV) == expected


def test_a_python_that_is_not_this_one_is_not_warm_started(tmp_path):
    other = tmp_path / "bin"
    other.mkdir()
    (other / "python").symlink_to("/bin/true")
    env = {**ENV, "PATH": os.pathsep.join([str(other), ENV["PATH"]])}
    assert script_argv("python train.py", env) is None


def test_an_environment_differing_beyond_the_late_variables_does_not_fit():
    pool = WarmPool(ENV, LATE)
    assert pool.fits({**ENV, "MLFLOW_RUN_ID": "abc"})
    assert not pool.fits({**ENV, "OMP_NUM_THREADS": "1"})  # read by numpy at import: the spare has it wrong
    assert not pool.fits({k: v for k, v in ENV.items() if k != "PYTHONPATH"})


def run_both_ways(
    tmp_path: Path, script_text: str, args: list[str], preload: tuple[str, ...] = PRELOAD
) -> tuple[tuple[int, str], tuple[int, str]]:
    """(exit code, output) of `python SCRIPT ARGS` and of the same in a warm-started Python."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "probe.py").write_text(script_text)
    env = {**ENV, "MLFLOW_RUN_ID": "run-123"}
    plain = subprocess.run(
        [sys.executable, "probe.py", *args], cwd=code, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    pool = WarmPool(ENV, LATE, preload)
    pool.ahead = 0
    process = pool.start(["probe.py", *args], code, env)
    assert process is not None
    output = process.stdout.read()
    return (plain.returncode, plain.stdout + plain.stderr), (end_group(process), output)


def test_the_script_sees_what_a_plain_python_gives_it(tmp_path):
    (plain_code, plain_out), (warm_code, warm_out) = run_both_ways(tmp_path, PROBE, ["--x", "1"])
    assert plain_code == warm_code == 0
    plain, warm = json.loads(plain_out), json.loads(warm_out)
    assert warm == plain
    assert warm["argv"] == ["probe.py", "--x", "1"] and warm["run_id"] == "run-123" and warm["name"] == "__main__"
    assert warm["stdin"] == ""


@pytest.mark.parametrize(
    ("script", "code"),
    [("import sys\nsys.exit(3)\n", 3), ("raise ValueError('bad value in column x')\n", 1), ("import mlops\n", 1)],
)
def test_exit_codes_and_errors_are_those_of_a_plain_python(tmp_path, script, code):
    (plain_code, plain_out), (warm_code, warm_out) = run_both_ways(tmp_path, script, [], preload=("json",))
    assert plain_code == warm_code == code
    last = plain_out.strip().splitlines()[-1:] if plain_out.strip() else []
    assert warm_out.strip().splitlines()[-1:] == last  # the error line itself (the frames above differ by runpy's)


def test_a_taken_spare_is_replaced_and_unused_ones_are_stopped_by_close(tmp_path):
    pool = WarmPool(ENV, LATE, preload=("json",))
    pool.warm_up(2)
    oldest, second = pool.spares
    (tmp_path / "ok.py").write_text("print('ok')\n")
    process = pool.start(["ok.py"], tmp_path, ENV)
    assert process is oldest and pool.spares[0] is second and len(pool.spares) == 2  # topped up to `ahead`
    assert end_group(process) == 0
    left = [psutil.Process(spare.pid) for spare in pool.spares]
    pool.close()
    assert pool.spares == []
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in left)
