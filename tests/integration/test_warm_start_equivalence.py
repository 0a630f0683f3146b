"""Warm start changes nothing but the time: the training pipeline run with every step in a pre-started Python (the
shared `trained` fixture's first run) and the same pipeline with `MLOPS_WARM_START=0` (every step a fresh
`bash -c 'exec python ...'`) write the same outputs and the same MLflow records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlops.targets.local.jobs import submit

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]

SAME_BYTES = ["prep/outputs/train_data/data.parquet", "prep/outputs/test_data/data.parquet", "prep/outputs/profile"]
SAME_JSON = [
    "evaluate/outputs/evaluation/metrics.json",
    "evaluate/outputs/evaluation/fairness.json",
    "evaluate/outputs/evaluation/decision.json",
    "rai/outputs/insights/insights.json",
]


@pytest.fixture(scope="module")
def both(trained, weak_overrides, repo_root, tmp_path_factory):
    results, _ = trained
    state = tmp_path_factory.mktemp("plain-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_HOME", str(state))
        patch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
        patch.setenv("MLOPS_WARM_START", "0")
        plain = submit(repo_root / "pipelines" / "train.yml", weak_overrides, echo=lambda _: None)
    return results["first_weak"], plain


def test_the_fixture_ran_every_step_warm_and_the_switch_ran_none(both):
    warm, plain = both
    assert {name: (s.status, s.warm_started) for name, s in warm.steps.items()} == {
        name: ("completed", True) for name in ("prep", "train", "evaluate", "rai", "register")
    }
    assert {name: (s.status, s.warm_started) for name, s in plain.steps.items()} == {
        name: ("completed", False) for name in warm.steps
    }
    record = json.loads((warm.run_dir / "run.json").read_text())
    assert all(step["warm_started"] for step in record["steps"].values())


def files(folder: Path) -> dict[str, bytes]:
    if folder.is_file():
        return {folder.name: folder.read_bytes()}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("relative", SAME_BYTES)
def test_the_data_outputs_are_byte_identical(both, relative):
    warm, plain = both
    assert files(warm.run_dir / relative) == files(plain.run_dir / relative)


@pytest.mark.parametrize("relative", SAME_JSON)
def test_the_metrics_decision_and_insights_are_identical(both, relative):
    warm, plain = both
    assert json.loads((warm.run_dir / relative).read_text()) == json.loads((plain.run_dir / relative).read_text())


def step_records(run) -> dict[str, tuple[dict, dict, set]]:
    """Per step: its MLflow run's metrics, params and tag names (values hold run ids and times)."""
    client = MlflowClient(tracking_uri=run.state.tracking_uri, registry_uri=run.state.tracking_uri)
    records = {}
    for name, step in run.steps.items():
        data = client.get_run(step.mlflow_run_id).data
        records[name] = (data.metrics, data.params, set(data.tags))
    return records


def test_the_mlflow_records_are_identical(both):
    warm, plain = both
    assert step_records(warm) == step_records(plain)
    registered = [json.loads((r.run_dir / "register/outputs/registration/registration.json").read_text()) for r in both]
    ids = {"training_run_id", "pipeline_run_id", "git_commit"}
    assert [{k: v for k, v in r["tags"].items() if k not in ids} for r in registered[:1]] == [
        {k: v for k, v in r["tags"].items() if k not in ids} for r in registered[1:]
    ]
    assert registered[0]["registered"] is registered[1]["registered"] is True
