"""A pre-started Python for one pipeline step (mlops.targets.local.warm). Runs WITHOUT the project package.

Started as `python warm_python.py MODULE...` in the sandbox's environment, as the leader of a session of its own
(exactly as a step's own `python` is started), it imports the listed libraries - the slow, side-effect-free ones
every step needs: numpy, pandas, scikit-learn, MLflow - while the previous step runs. Then it reads ONE JSON line
from stdin, {"argv": [SCRIPT, ARGS...], "cwd": ..., "env": {...}}, becomes that step's process - the environment
replaced, the working folder changed, stdin at /dev/null, `sys.argv`, `sys.path[0]` and `__main__` as
`python SCRIPT ARGS` sets them - and runs the script. Exit codes, tracebacks, signals and `atexit` behave as in a plain
`python SCRIPT`. A module that fails to import is simply not pre-loaded (the script meets the same error itself).
"""

import builtins
import contextlib
import importlib
import importlib.machinery
import json
import os
import sys
import types


def preload(modules):
    for name in modules:
        with contextlib.suppress(Exception):  # not pre-loaded: the script, if it needs it, reports the error
            importlib.import_module(name)


def become(spec):
    os.environ.clear()
    os.environ.update(spec["env"])
    os.chdir(spec["cwd"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    script = spec["argv"][0]
    path = os.path.abspath(script)  # __main__.__file__ is absolute (Python >= 3.9); argv[0] is as given
    sys.argv = list(spec["argv"])
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    main_module = types.ModuleType("__main__")
    main_module.__file__ = path
    main_module.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec")
    exec(code, main_module.__dict__)


def main():
    preload(sys.argv[1:])
    line = sys.stdin.readline()
    if not line:  # released unused (the pipeline ended): exit quietly
        return 0
    become(json.loads(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
