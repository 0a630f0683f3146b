"""The Makefile's set-up: uv, at the version requirements/lock.txt pins (written there only), installs every lock with
--no-deps and pip check follows; `make browser` (Chromium for the browser tests) never fails `make test`.

The venv builds are checked with `make -n -B` (the commands make would run; nothing runs, nothing is written).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on PATH")

SKIP_LINE = "chromium not installed: the browser tests will be skipped (install Debian's chromium to run them)"


def make(repo_root: Path, *args: str) -> subprocess.CompletedProcess:
    """A make of its own: under `make test` the inherited MAKEFLAGS/MAKELEVEL would make it print directories."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    return subprocess.run(["make", *args], cwd=repo_root, capture_output=True, text=True, timeout=120, env=env)


def lock_files(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "requirements").glob("*lock.txt"))


def venv_of(lock: Path) -> str:
    return ".venv" if lock.name == "lock.txt" else ".venv-" + lock.name.removesuffix("-lock.txt")


def planned_builds(repo_root: Path) -> list[str]:
    """The commands of a rebuild of every venv, one per line."""
    stamps = [f"{venv_of(lock)}/.installed-from-lock" for lock in lock_files(repo_root)]
    done = make(repo_root, "-n", "-B", *stamps)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_uv_version_is_written_in_the_lock_only(repo_root):
    pins = re.findall(r"^uv==(\S+)$", (repo_root / "requirements" / "lock.txt").read_text(), flags=re.MULTILINE)
    assert len(pins) == 1
    assert re.findall(r"uv==\d", (repo_root / "Makefile").read_text()) == []
    bootstrap = [line for line in planned_builds(repo_root) if "-m pip install" in line]
    assert bootstrap, "pip bootstraps uv into .venv; uv installs the rest"
    for line in bootstrap:
        assert line.startswith("[ -x .venv/bin/uv ] || .venv/bin/python -m pip install ")
        assert line.endswith(f'--no-deps "uv=={pins[0]}"')


def test_every_lock_is_installed_by_uv_without_deps_then_pip_checked(repo_root):
    planned = "\n".join(planned_builds(repo_root))
    assert len(lock_files(repo_root)) >= 4
    for lock in lock_files(repo_root):
        venv, lock_path = venv_of(lock), f"requirements/{lock.name}"
        assert f"rm -rf {venv} && " in planned and f" -m venv {venv}\n" in planned
        install = re.search(rf"\.venv/bin/uv pip install (.*) -r {re.escape(lock_path)}( |$)", planned, re.MULTILINE)
        assert install, f"{lock_path} is not installed by .venv/bin/uv"
        assert f"--no-deps --compile-bytecode --python {venv}/bin/python" in install.group(1), (
            "uv must write the .pyc files at install (without them, under PYTHONDONTWRITEBYTECODE, every process "
            "compiles its imports from source)"
        )
        assert f"{venv}/bin/python -m pip check" in planned
        assert f"touch {venv}/.installed-from-lock" in planned
    assert "--no-build-isolation --python .venv/bin/python -e ." in planned


def test_browser_setup_is_part_of_make_test(repo_root):
    planned = make(repo_root, "-n", "-B", "test")
    assert planned.returncode == 0, planned.stderr
    assert SKIP_LINE in planned.stdout


def test_browser_setup_says_why_it_skips_and_succeeds(repo_root, tmp_path):
    done = make(repo_root, "browser", f"CHROMIUM={tmp_path}/chromium", f"APT_GET={tmp_path}/apt-get")
    assert (done.returncode, done.stdout.strip()) == (0, SKIP_LINE)


def test_browser_setup_does_nothing_when_chromium_is_there(repo_root, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = make(repo_root, "browser", f"CHROMIUM={chromium}", f"APT_GET={tmp_path}/apt-get")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
