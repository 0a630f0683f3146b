"""Jobs on Azure ML: the same job YAML the local target runs (`targets.local.jobs`), submitted to the workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops import github
from mlops.errors import AzureOnly, MlopsError, StepFailed
from mlops.project import loaders
from mlops.project.layout import Layout
from mlops.project.pipeline import MODEL_TYPES, DataInput, data_path, load_pipeline, parse_overrides
from mlops.project.references import is_asset_ref, parse_ref
from mlops.targets.azure.workspace import Definition, Echo, azure_errors, ensure, repo_definitions

TERMINAL_OK = "Completed"


def needed_by_pipeline(layout: Layout, pipeline_file: Path, overrides: list[str]) -> tuple[Any, list[Definition]]:
    """The loaded job (with `--set` applied) and what it needs in the workspace: the cluster it names, the
    environments of its components, the data assets it reads. Components travel with the job itself."""
    try:
        pipeline = load_pipeline(pipeline_file, overrides)
    except AzureOnly:  # valid for Azure ML, beyond the local target: read what it needs from the SDK's job
        job = loaders.load_job(pipeline_file.resolve(), parse_overrides(overrides))
        return job, _needed(layout, job, *_entity_needs(job))
    if pipeline.problems:
        raise MlopsError(f"{pipeline.path}: " + "; ".join(pipeline.problems))
    environments = {step.environment for step in pipeline.steps.values() if isinstance(step.environment, str)}
    sources = [s for s in pipeline.inputs.values() if isinstance(s, DataInput)]
    sources += [s for step in pipeline.steps.values() for s in step.inputs.values() if isinstance(s, DataInput)]
    data = {s.path for s in sources if not s.registered_model}  # a registered model is the registry's, not data
    return pipeline.job, _needed(layout, pipeline.job, environments, data)


def _needed(layout: Layout, job: Any, environments: set[str], data_paths: set[str]) -> list[Definition]:
    """The cluster the job names, and the environment and data definitions of the repo it references."""
    defined = repo_definitions(layout, ("compute", "environment", "data"))
    wanted: list[Definition] = []
    settings = getattr(job, "settings", None)  # a command job names its compute itself
    compute = str(getattr(settings, "default_compute", None) or getattr(job, "compute", None) or "")
    wanted += [d for d in defined if d.kind == "compute" and d.name == compute.removeprefix("azureml:")]
    for reference in sorted(r for r in environments if is_asset_ref(r)):
        ref = parse_ref(reference)
        wanted += [d for d in defined if d.kind == "environment" and d.name == ref.name and d.version == ref.version]
    for path in sorted(p for p in data_paths if is_asset_ref(p)):
        asset = layout.catalog.data(path)
        wanted += [d for d in defined if d.kind == "data" and d.file == asset.file]
    return list(dict.fromkeys(wanted))


def _entity_needs(job: Any) -> tuple[set[str], set[str]]:
    """(environment references, data paths) of a loaded job the local target does not run (a Spark step, an
    AutoML forecast): its inputs, an AutoML job's data, and each step's component environment and inputs."""
    environments: set[str] = set()
    paths: set[str] = set()
    nodes = [job, *(getattr(job, "jobs", None) or {}).values()]
    for node in nodes:
        data = [getattr(node, name, None) for name in ("training_data", "validation_data", "test_data")]
        data += list((getattr(node, "inputs", None) or {}).values())
        for value in data:
            if getattr(getattr(value, "_data", value), "type", None) not in MODEL_TYPES:
                paths.add(data_path(value))
        environment = getattr(getattr(node, "component", None), "environment", None)
        if isinstance(environment, str):
            environments.add(environment if environment.startswith("azureml:") else f"azureml:{environment}")
    return environments, paths - {""}


def submit(
    client: Any, layout: Layout, pipeline_file: Path, overrides: list[str], *, wait: bool, echo: Echo = print
) -> Any:
    """Ensure what the job needs, submit the same pipeline YAML, and (with wait) stream it to the end.
    Raises StepFailed when the job does not complete."""
    job, needed = needed_by_pipeline(layout, pipeline_file, overrides)
    ensure(client, needed, echo)
    with azure_errors(f"pipeline job {pipeline_file.name}"):
        created = client.jobs.create_or_update(job)
    echo(f"submitted {created.name} ({created.status}); studio: {created.studio_url}")
    if not wait:
        return created
    final = wait_for(client, created, "Azure ML job", echo)
    if "registration" in (job.outputs or {}):
        report_registration(client, final.name, echo)
    return final


def wait_for(client: Any, job: Any, what: str, echo: Echo = print) -> Any:
    """Stream a job's logs to the end; raises StepFailed unless it completed."""
    try:
        client.jobs.stream(job.name)
    except Exception as exc:  # stream raises when the job fails; the status below says how
        echo(f"stream ended: {exc}")
    final = client.jobs.get(job.name)
    echo(f"{what} {final.name}: {final.status}")
    if final.status != TERMINAL_OK:
        raise StepFailed(f"{what} {final.name} ended {final.status}; see {final.studio_url}")
    return final


def report_registration(client: Any, job_name: str, echo: Echo = print) -> dict[str, Any] | None:
    """What the register step decided, read from the job's `registration` output; in GitHub Actions also exposed
    as step outputs (registered, model_name, model_version) so a deploy can follow a training run."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="registration-") as folder:
        try:
            with azure_errors(f"downloading the registration output of {job_name}"):
                client.jobs.download(name=job_name, output_name="registration", download_path=folder)
        except MlopsError as exc:
            echo(f"registration unknown: {exc}")
            return None
        found = sorted(Path(folder).rglob("registration.json"))
        if not found:
            echo(f"registration unknown: job {job_name} has no registration.json in its registration output")
            return None
        info = json.loads(found[0].read_text())
    if info.get("registered"):
        echo(f"registered: {info.get('model_name')}:{info.get('version')}")
    else:
        echo(f"not registered: {info.get('reason')}")
    github.write_outputs(
        {
            "registered": "true" if info.get("registered") else "false",
            "model_name": str(info.get("model_name") or ""),
            "model_version": str(info.get("version") or ""),
        }
    )
    return info
