"""Shared fixtures: the repo root, and a throw-away copy of the tiny fixture project with its own state folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MINIPROJECT = REPO / "tests" / "fixtures" / "miniproject"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` group again: pytest-xdist 3.8 tags an `xdist_group` test by setting `item._nodeid`
    to `<nodeid>@<group>`, which pytest 9 no longer reads (the node id lives in `item._id`), so every group was
    spread over both workers and each built the shared trained fixtures. Copy the tag to where pytest reads it."""
    from _pytest.nodeid import coerce_node_id  # private, but the only way to set what xdist meant to set

    for item in items:
        grouped = item.__dict__.get("_nodeid")
        if grouped and grouped != item.nodeid:
            item._id = coerce_node_id(grouped)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def empty_tracking_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its schema created once (the migrations take seconds per new store)."""
    from mlops.project.layout import StateDir
    from mlops.targets.local import tracking

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


# A deliberately weak model (one shallow tree) with a floor it can pass: the first champion, to be beaten.
WEAK = [
    "inputs.estimator=random_forest",
    "inputs.n_estimators=1",
    "jobs.train.inputs.max_depth=1",
    "inputs.min_metric=0.5",
]


@pytest.fixture(scope="session")
def weak_overrides() -> list[str]:
    """The `--set` overrides of the `trained` fixture's weak runs."""
    return list(WEAK)


@pytest.fixture(scope="session")
def trained(repo_root, tmp_path_factory):
    """The training pipeline run four times in one fresh state folder on the sample data:
    weak (no champion) -> default (better) -> default again (same) -> weak again (worse).
    Afterwards version 2 is the champion. Shared by the gate, serving and batch tests (about a minute)."""
    from mlflow.tracking import MlflowClient

    from mlops.targets.local.jobs import submit as run_pipeline

    state = tmp_path_factory.mktemp("trained-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_HOME", str(state))
        patch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
        pipeline = repo_root / "pipelines" / "train.yml"
        results = {
            "first_weak": run_pipeline(pipeline, WEAK, echo=lambda _: None),
            "better": run_pipeline(pipeline, [], echo=lambda _: None),
            "same": run_pipeline(pipeline, [], echo=lambda _: None),
            "worse": run_pipeline(pipeline, WEAK, echo=lambda _: None),
        }
    return results, MlflowClient(tracking_uri=results["better"].state.tracking_uri)


@pytest.fixture(scope="session")
def whole_loop(trained, repo_root):
    """`mlops run` once in the trained state folder (train reused, serve, batch-score, monitor both windows):
    (what it printed, the state folder). Its summary test and the browser checks of its pages share it."""
    import contextlib
    import io

    from mlops.cli import main

    results, _ = trained
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("MLOPS_HOME", str(results["better"].state.root))
        patch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
        patch.chdir(repo_root)
        code = main(["run"])
    assert code == 0, printed.getvalue()
    return printed.getvalue(), results["better"].state.root
