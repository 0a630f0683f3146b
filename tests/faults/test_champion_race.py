"""Four pipelines promoting at the same time, locally: the champion still changes atomically.

Each of four `mlops pipeline run` processes (four engines, each passing its own MLOPS_ENGINE_PID and the shared
MLOPS_REGISTRY_LOCK to its step) runs the repo's register component on the session's trained state: the model the
`better` run trained and that run's real evaluation, with the gate disabled (`mode: disabled`, what evaluate
writes for `--set inputs.gate_mode=disabled`), so every run registers and promotes. Only register runs: the
full training pipeline four times over (prep and train reused, evaluate and register run) takes about 62 s on an
idle 2-core machine, this about 35 s, and the race is in register. The versions go to a model name of their own,
so the trained state's champion is untouched.

Afterwards exactly one version is the champion, the newest one, and every registration.json agrees with the
registry: each run held the registry lock from registering to promoting, so each was the champion when it let go,
and each one but the last was replaced by the next version, which names it as `previous_champion_version`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

# Uses the session-scoped `trained` fixture, so it runs in that fixture's xdist worker (built once).
pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.xdist_group("trained")]

RUNS = 4
TIMEOUT = 240  # seconds for all four; about 35 s on an idle 2-core machine


def register_pipeline(repo: Path, folder: Path, model: Path, evaluation: Path, model_name: str) -> Path:
    """A pipeline job of one step, the repo's register component, written into `folder`. Its experiment is the
    training pipeline's, which the trained state already has (engines starting together would all create it)."""
    experiment = yaml.safe_load((repo / "pipelines" / "train.yml").read_text())["experiment_name"]
    job = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json",
        "type": "pipeline",
        "display_name": "champion-race",
        "experiment_name": experiment,
        "inputs": {
            "model": {"type": "mlflow_model", "path": str(model)},
            "evaluation": {"type": "uri_folder", "path": str(evaluation)},
            "model_name": model_name,
        },
        "outputs": {"registration": {"type": "uri_folder"}},
        "jobs": {
            "register": {
                "type": "command",
                "component": str(repo / "components" / "register" / "component.yml"),
                "inputs": {name: "${{parent.inputs." + name + "}}" for name in ("model", "evaluation", "model_name")},
                "outputs": {"registration": "${{parent.outputs.registration}}"},
            }
        },
    }
    path = folder / "race.yml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def gate_disabled_evaluation(evaluation: Path, folder: Path) -> Path:
    """The real evaluation of the trained `better` run, its decision as a disabled gate writes it for a model with
    no champion yet (the race model's)."""
    folder.mkdir()
    decision = json.loads((evaluation / "decision.json").read_text())
    decision.update(mode="disabled", register=True, passed=None, checks=[], champion_version=None)
    decision.update(champion_value=None, improvement=None)
    (folder / "decision.json").write_text(json.dumps(decision))
    (folder / "metrics.json").write_text((evaluation / "metrics.json").read_text())
    return folder


def output_folder(log_text: str, name: str) -> Path:
    prefix = f"  output {name}: "
    lines = [line for line in log_text.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, log_text
    return Path(lines[0][len(prefix) :])


def test_concurrent_promotions_leave_one_champion_the_newest(trained, repo_root, tmp_path) -> None:
    from mlflow.tracking import MlflowClient

    results, _ = trained
    better = results["better"]
    model_name = f"race-{uuid.uuid4().hex[:8]}"
    evaluation = gate_disabled_evaluation(better.outputs["evaluation"], tmp_path / "evaluation")
    pipeline = register_pipeline(
        repo_root, tmp_path, better.steps["train"].outputs["model_output"], evaluation, model_name
    )
    env = {**os.environ, "MLOPS_HOME": str(better.state.root), "MLOPS_PROJECT_ROOT": str(repo_root)}
    logs = [tmp_path / f"run-{i}.log" for i in range(RUNS)]
    processes = []
    for log in logs:
        with log.open("w") as handle:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mlops.cli", "pipeline", "run", str(pipeline)],
                    cwd=tmp_path,
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        codes = [process.wait(timeout=TIMEOUT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    texts = [log.read_text() for log in logs]
    assert codes == [0] * RUNS, "\n\n".join(texts)

    registrations = [json.loads((output_folder(t, "registration") / "registration.json").read_text()) for t in texts]
    client = MlflowClient(tracking_uri=better.state.tracking_uri)
    tags = {int(v.version): v.tags for v in client.search_model_versions(f"name='{model_name}'")}

    # the registry: four versions, exactly one champion, the newest
    assert sorted(tags) == list(range(1, RUNS + 1))
    assert [n for n, t in tags.items() if t.get("champion") == "true"] == [RUNS]
    assert all(tags[n]["champion"] == "false" for n in range(1, RUNS))

    # every registration.json agrees with it: champion when it let go of the lock, then replaced by the next one
    by_version = {int(r["version"]): r for r in registrations}
    assert sorted(by_version) == sorted(tags)
    for number, record in by_version.items():
        assert record["registered"] is True and record["champion"] is True, record
        assert record["previous_champion_version"] == (str(number - 1) if number > 1 else None)
        assert record["demoted_versions"] == ([str(number - 1)] if number > 1 else [])
        assert record["tags"]["training_run_id"] == tags[number]["training_run_id"]
        assert record["compared_champion_version"] is None  # so every promotion after the first is a changed one
