"""Shared fixtures: the repo root, and a throw-away copy of the tiny fixture project with its own state folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MINIPROJECT = REPO / "tests" / "fixtures" / "miniproject"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def empty_tracking_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its schema created once (the migrations take seconds per new store)."""
    from mlops import tracking
    from mlops.project import StateDir

    state = StateDir(tmp_path_factory.mktemp("template-state")).ensure()
    tracking.client(state).search_experiments()
    return state.root / "mlflow.db"


@pytest.fixture
def miniproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_tracking_db: Path) -> Path:
    """A copy of tests/fixtures/miniproject (two tiny components, a pipeline, data assets) as the project root."""
    root = tmp_path / "project"
    shutil.copytree(MINIPROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(root))
    (tmp_path / "state").mkdir()
    shutil.copy2(empty_tracking_db, tmp_path / "state" / "mlflow.db")
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(root)
    return root
