"""The Azure path without Azure: the boundary is the MLClient's operations objects.

Every entity the Azure target sends must be exactly what azure-ai-ml's loaders produce from the repo's YAML.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

from mlops.errors import MlopsError, StepFailed
from mlops.project import loaders as azureml
from mlops.project.layout import Layout
from mlops.project.pipeline import load_pipeline
from mlops.targets.azure import jobs, workspace


class FakeAssets:
    def __init__(self, existing=()):
        self.existing = set(existing)
        self.sent = []

    def get(self, name, version=None, label=None):
        if (name, version) not in self.existing:
            raise ResourceNotFoundError(f"{name}:{version} not found")
        return SimpleNamespace(name=name, version=version)

    def create_or_update(self, entity):
        self.sent.append(entity)
        return entity


class FakeCompute:
    def __init__(self, existing=None):
        self.sent = []
        self.existing = existing

    def get(self, name):
        if self.existing is None or self.existing.name != name:
            raise ResourceNotFoundError(f"{name} not found")
        return self.existing

    def begin_create_or_update(self, entity):
        self.sent.append(entity)
        return SimpleNamespace(result=lambda: entity)


class FakeJobs:
    def __init__(self, final_status="Completed"):
        self.final_status = final_status
        self.sent = []
        self.streamed = []

    def create_or_update(self, job, **kwargs):
        self.sent.append(job)
        return SimpleNamespace(
            name="brave_pear_1", status="Queued", studio_url="https://ml.azure.com/runs/brave_pear_1"
        )

    def stream(self, name):
        self.streamed.append(name)
        if self.final_status != "Completed":
            raise RuntimeError("job failed")

    def get(self, name):
        return SimpleNamespace(name=name, status=self.final_status, studio_url="https://ml.azure.com/runs/" + name)

    registration: dict = {"registered": True, "model_name": "diabetes-classifier", "version": "7"}  # noqa: RUF012

    def download(self, name, output_name, download_path):
        folder = Path(download_path) / "named-outputs" / output_name
        folder.mkdir(parents=True)
        (folder / "registration.json").write_text(json.dumps(self.registration))


def fake_client(existing=(), final_status="Completed"):
    return SimpleNamespace(
        compute=FakeCompute(),
        environments=FakeAssets(existing),
        data=FakeAssets(existing),
        components=FakeAssets(existing),
        jobs=FakeJobs(final_status),
    )


def same(sent, file):
    return sent._to_dict() == azureml.load_entity(file)._to_dict()


def test_ensure_sends_every_repo_definition_exactly_as_loaded(repo_root):
    client = fake_client()
    definitions = workspace.repo_definitions(Layout(repo_root))
    results = workspace.ensure(client, definitions, echo=lambda _: None)
    kinds = {d.kind for d in definitions}
    assert {"environment", "data", "component"} <= kinds
    sent = {
        "compute": client.compute.sent,
        "environment": client.environments.sent,
        "data": client.data.sent,
        "component": client.components.sent,
    }
    for definition in definitions:
        matches = [e for e in sent[definition.kind] if same(e, definition.file)]
        assert matches, f"{definition.label} was not sent as loaded from {definition.file}"
    assert set(results.values()) == {"created"}
    assert len(client.components.sent) == len(list((repo_root / "components").glob("*/component.yml")))


def test_ensure_is_idempotent_for_existing_versions(repo_root):
    definitions = [d for d in workspace.repo_definitions(Layout(repo_root)) if d.kind != "compute"]
    client = fake_client(existing={(d.name, d.version) for d in definitions})
    results = workspace.ensure(client, definitions, echo=lambda _: None)
    assert set(results.values()) == {"exists"}
    assert client.environments.sent == client.data.sent == client.components.sent == []


def test_pipeline_submission_sends_the_loaded_job_with_overrides_and_what_it_needs(repo_root):
    client = fake_client()
    pipeline = repo_root / "pipelines" / "train.yml"
    overrides = ["inputs.estimator=random_forest"]
    jobs.submit(client, Layout(repo_root), pipeline, overrides, wait=False, echo=lambda _: None)
    (job,) = client.jobs.sent
    expected = azureml.load_job(pipeline, [{"inputs.estimator": "random_forest"}])
    assert job._to_dict() == expected._to_dict()
    assert job._to_dict()["inputs"]["estimator"] == "random_forest"
    assert [e.name for e in client.environments.sent] == ["diabetes-train-env"]
    assert [(e.name, e.version) for e in client.data.sent] == [("diabetes-training", "1")]
    assert client.components.sent == []  # components travel with the job
    assert client.jobs.streamed == []


def test_wait_streams_and_succeeds_when_the_job_completes(repo_root, tmp_path, monkeypatch, capsys):
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    client = fake_client()
    final = jobs.submit(client, Layout(repo_root), repo_root / "pipelines" / "train.yml", [], wait=True, echo=print)
    assert client.jobs.streamed == ["brave_pear_1"]
    assert final.status == "Completed"
    assert "registered: diabetes-classifier:7" in capsys.readouterr().out
    assert outputs.read_text() == "registered=true\nmodel_name=diabetes-classifier\nmodel_version=7\n"


def test_a_declined_registration_is_reported_as_such(repo_root, tmp_path, monkeypatch, capsys):
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    client = fake_client()
    client.jobs.registration = {"registered": False, "model_name": "diabetes-classifier", "reason": "not better"}
    jobs.submit(client, Layout(repo_root), repo_root / "pipelines" / "train.yml", [], wait=True, echo=print)
    assert "not registered: not better" in capsys.readouterr().out
    assert "registered=false\n" in outputs.read_text() and "model_version=\n" in outputs.read_text()


def test_wait_fails_when_the_job_fails(repo_root):
    client = fake_client(final_status="Failed")
    with pytest.raises(StepFailed, match="brave_pear_1 ended Failed"):
        jobs.submit(client, Layout(repo_root), repo_root / "pipelines" / "train.yml", [], wait=True, echo=print)


def test_a_broken_pipeline_is_rejected_before_anything_is_sent(repo_root):
    client = fake_client()
    with pytest.raises(MlopsError, match="declares no input 'estimatr'; did you mean 'estimator'"):
        jobs.submit(
            client,
            repo_root,
            repo_root / "pipelines" / "train.yml",
            ["inputs.estimatr=x", "jobs.train.inputs.estimatr=x"],
            wait=False,
            echo=print,
        )
    assert client.jobs.sent == client.environments.sent == client.data.sent == []


def test_credential_errors_become_a_one_line_hint(repo_root):
    client = fake_client()

    def refuse(entity):
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    client.environments.get = lambda **kwargs: (_ for _ in ()).throw(
        ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")
    )
    client.environments.create_or_update = refuse
    definitions = [d for d in workspace.repo_definitions(Layout(repo_root)) if d.kind == "environment"]
    with pytest.raises(MlopsError, match=r"could not authenticate to Azure.*az login"):
        workspace.ensure(client, definitions, echo=lambda _: None)


def test_an_unchanged_cluster_is_not_updated_and_a_changed_one_is(repo_root):
    (cluster,) = [d for d in workspace.repo_definitions(Layout(repo_root)) if d.kind == "compute"]
    same = azureml.load_entity(cluster.file)
    client = fake_client()
    client.compute = FakeCompute(existing=same)
    assert workspace.ensure(client, [cluster], echo=lambda _: None) == {cluster.label: "exists, unchanged"}
    assert client.compute.sent == []
    changed = azureml.load_entity(cluster.file)
    changed.max_instances = changed.max_instances + 3
    client.compute = FakeCompute(existing=changed)
    assert workspace.ensure(client, [cluster], echo=lambda _: None) == {cluster.label: "updated"}
    assert same._to_dict() == client.compute.sent[0]._to_dict()


def test_force_rerun_reaches_azure_as_the_job_setting(repo_root, monkeypatch):
    from mlops import cli
    from mlops.cli import job_verbs

    sent = {}
    monkeypatch.setattr(job_verbs, "azure_client", lambda project: "client")
    monkeypatch.setattr(
        jobs,
        "submit",
        lambda client, project, file, overrides, wait: sent.update(overrides=overrides, wait=wait),
    )
    assert cli.main(["pipeline", "run", "pipelines/train.yml", "--target", "azure", "--force-rerun", "--wait"]) == 0
    assert sent == {"overrides": ["settings.force_rerun=true"], "wait": True}


def test_a_command_job_is_submitted_as_loaded(repo_root):
    """`mlops job run FILE --target azure` on a `type: command` job: the Command load_job returns, sent as is."""
    client = fake_client()
    job_file = repo_root / "tests" / "fixtures" / "jobs" / "command-job.yml"
    jobs.submit(client, Layout(repo_root), job_file, ["inputs.label=rows"], wait=False, echo=lambda _: None)
    (job,) = client.jobs.sent
    expected = azureml.load_job(job_file, [{"inputs.label": "rows"}])
    assert type(job).__name__ == "Command" and job._to_dict() == expected._to_dict()
    assert client.environments.sent == client.data.sent == []  # an inline environment, a local file


def test_a_job_beyond_the_local_target_is_still_submitted_with_what_it_needs(repo_root, tmp_path):
    """AutoArima is Azure's only (the local AutoML refuses it): `--target azure` must not be refused with it, and
    still ensures the cluster and the data asset the job names."""
    job_file = tmp_path / "forecast-arima.yml"
    text = (repo_root / "pipelines" / "automl-forecasting.yml").read_text()
    job_file.write_text(text.replace("[SeasonalNaive, LightGBM,", "[AutoArima, SeasonalNaive, LightGBM,"))
    with pytest.raises(MlopsError, match="AutoArima has no local counterpart"):
        load_pipeline(job_file)
    client = fake_client()
    jobs.submit(client, Layout(repo_root), job_file, ["limits.max_trials=5"], wait=False, echo=lambda _: None)
    (job,) = client.jobs.sent
    assert type(job).__name__ == "ForecastingJob" and job.limits.max_trials == 5
    assert "AutoArima" in [str(getattr(a, "value", a)) for a in job.training.allowed_training_algorithms]
    assert [(e.name, e.version) for e in client.data.sent] == [("diabetes-visits", "1")]
    assert [c.name for c in client.compute.sent] == ["cpu-cluster"]


def test_the_rai_dashboard_is_submitted_as_loaded_with_the_data_it_reads(repo_root):
    """`--target azure` sends Azure's RAI dashboard itself (registry components), not the local RAI step."""
    client = fake_client()
    rai = repo_root / "pipelines" / "rai.yml"
    jobs.submit(client, Layout(repo_root), rai, [], wait=False, echo=lambda _: None)
    (job,) = client.jobs.sent
    assert job._to_dict() == azureml.load_job(rai)._to_dict()
    assert set(job.jobs) == {
        "constructor",
        "explanation",
        "error_analysis",
        "counterfactual",
        "causal",
        "gather",
        "scorecard",
    }
    assert [(e.name, e.version) for e in client.data.sent] == [("diabetes-training", "1")]
    assert [c.name for c in client.compute.sent] == ["cpu-cluster"]
