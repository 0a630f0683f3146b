"""`mlops job run --build-envs`: each environment's pip packages in a venv of their own, built once with uv.

By default every step runs in the project's venv and an environment that asks for something else only gets a
warning (`mlops.project.environments`). With `--build-envs`, the steps whose environment has a conda file run in a
venv built from that file's `pip:` requirements with uv (in the lock), cached under the state folder's `envs/` by
a hash of what decides its contents (the requirements, this Python, the platform), so the next run starts at once.
The venv is built on this machine's Python: a conda file asking for another Python is refused (uv would download
one). The venv appears whole or not at all (built beside, then renamed); a failed build is exit 2 naming the
environment and uv's last lines. The sandbox still applies: the project package cannot be imported.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from mlops.errors import MlopsError
from mlops.project.environments import Declared, same_release

BUILD_TIMEOUT_S = 1800
READY = ".mlops-env-ready"


def uv_binary() -> Path:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise MlopsError("--build-envs needs uv (requirements/lock.txt installs it into .venv: run `make run` once)")
    return Path(found)


def env_key(declared: Declared, python: str | None = None) -> str:
    requirements = "\n".join(line for line in declared.pip if line and not line.startswith("#"))
    identity = f"{requirements}\n{python or sys.version}\n{platform.machine()}-{sys.platform}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def built_env(declared: Declared, cache: Path, echo=print) -> Path:
    """The bin folder of the venv for `declared` (building it first when it is not in `cache`)."""
    here = ".".join(map(str, sys.version_info[:3]))
    if declared.python and not same_release(declared.python, here):
        raise MlopsError(
            f"environment {declared.name} ({declared.conda_file}): python={declared.python}, and this machine's "
            f"Python is {here}; --build-envs builds on this Python (uv would have to download another)"
        )
    folder = cache / env_key(declared)
    if (folder / READY).is_file():
        return folder / "bin"
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".{folder.name}.{uuid.uuid4().hex[:8]}"
    requirements = staging.with_suffix(".txt")
    requirements.write_text("\n".join(declared.pip) + "\n", encoding="utf-8")
    echo(f"building environment {declared.name} ({len(declared.pip)} pip line(s)) into {folder} …")
    uv = str(uv_binary())
    env = {**os.environ, "UV_NATIVE_TLS": "1", "UV_CACHE_DIR": str(cache / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never"}
    try:
        _run([uv, "venv", "--quiet", "--python", _base_python(), str(staging)], env, declared)
        _run([uv, "pip", "install", "--quiet", "--python", str(staging / "bin" / "python"), "-r", str(requirements)],
             env, declared)  # fmt: skip
        (staging / READY).write_text(declared.name + "\n", encoding="utf-8")
        try:
            staging.rename(folder)
        except OSError:  # another run built the same environment first
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        requirements.unlink(missing_ok=True)
        if staging.exists() and not (folder / READY).is_file():
            shutil.rmtree(staging, ignore_errors=True)
    return folder / "bin"


def _base_python() -> str:
    """The interpreter this venv was made from (a venv of a venv would point at the project's packages' home)."""
    return str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")


def _run(command: list[str], env: dict[str, str], declared: Declared) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise MlopsError(f"environment {declared.name} ({declared.conda_file}): uv failed: {tail}")
