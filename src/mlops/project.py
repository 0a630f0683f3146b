"""Where the project is and where local state goes.

Local state (tracking DB, artifacts, run folders, cache) lives in one ignored folder, `.mlops/` at the repo root,
so deleting it is a clean slate. `MLOPS_HOME` moves it (tests use a temporary folder).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlops.errors import MlopsError

STATE_DIR_NAME = ".mlops"
TRAIN_PIPELINE = Path("pipelines") / "train.yml"


def find_root(start: Path | None = None) -> Path:
    """The repo root: the nearest folder upwards holding both `pipelines/` and `components/`."""
    env = os.environ.get("MLOPS_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pipelines").is_dir() and (folder / "components").is_dir():
            return folder
    raise MlopsError(f"no project found at or above {here} (looked for a folder with pipelines/ and components/)")


@dataclass(frozen=True)
class StateDir:
    """The layout of the local state folder."""

    root: Path

    @classmethod
    def for_project(cls, project_root: Path) -> StateDir:
        env = os.environ.get("MLOPS_HOME")
        return cls(Path(env).resolve() if env else project_root / STATE_DIR_NAME)

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def ensure(self) -> StateDir:
        for folder in (self.root, self.artifacts, self.runs, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def git_commit(project_root: Path) -> str | None:
    """The current commit (with `-dirty` when the tree has changes), or None outside a git checkout."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=project_root, capture_output=True, text=True, check=True, timeout=10)
        return done.stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def write_github_outputs(values: dict[str, str]) -> None:
    """In GitHub Actions, expose values as the step's outputs (`$GITHUB_OUTPUT`); elsewhere do nothing.
    Workflows read these instead of parsing what the CLI prints."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")
