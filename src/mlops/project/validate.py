"""`mlops validate`: load every Azure ML YAML in the repo with azure-ai-ml, then check what the SDK misses.

The loaders catch schema errors. They accept silently (or with a warning): unknown keys in a component or a
pipeline step, a binding to an input or step that does not exist, a code folder, include, conda file or data path
that is not there, a command that uses an undeclared or optional input outside `$[[ ]]`, reserved input names, and
a pipeline's literal parameter outside its declared type, enum or min/max. Every problem names the file and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import consistency
from mlops.project import loaders as azureml
from mlops.project.catalog import LocalCatalog
from mlops.project.command import PLACEHOLDER, required_placeholders
from mlops.project.layout import Layout
from mlops.project.model import load_model_definition
from mlops.project.pipeline import DataInput, load_pipeline
from mlops.project.references import is_asset_ref, is_storage_uri, parse_ref

RESERVED_INPUT_NAMES = {"path", "ld_library_path", "user", "logname", "home", "pwd", "shell"}
COMPONENT_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")


@dataclass(frozen=True)
class Problem:
    file: Path
    field: str
    message: str

    def render(self, root: Path) -> str:
        try:
            shown = self.file.relative_to(root)
        except ValueError:
            shown = self.file
        return f"{shown}: {self.field}: {self.message}" if self.field else f"{shown}: {self.message}"


def discover(layout: Layout) -> list[Path]:
    files: list[Path] = list(layout.model_files())
    for base in layout.definition_folders:
        files += in_folder(base)
    return sorted(files)


def in_folder(folder: Path) -> list[Path]:
    """The Azure ML YAML and MLTable files under a folder (none when it is not one)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and _is_yaml_or_mltable(p))


def _is_yaml_or_mltable(path: Path) -> bool:
    return path.suffix in (".yml", ".yaml") or path.name == "MLTable"


def validate_files(layout: Layout, files: list[Path], *, whole_project: bool = True) -> list[Problem]:
    """Every file's own checks, then (for the whole project, or where a checked file holds one of the copies)
    the names several files repeat (`mlops.project.consistency`)."""
    catalog = layout.catalog
    problems: list[Problem] = []
    try:
        catalog.data_assets  # noqa: B018  (load the data catalog once; a broken asset YAML is one problem)
    except MlopsError as exc:
        catalog.data_assets = []  # type: ignore[misc]
        problems.append(Problem(layout.data, "", str(exc)))
    for file in files:
        if file.parent == layout.models:
            problems += _check_model_definition(file)
            continue
        problems += validate_file(layout.root, file, catalog)
    checked = {f.resolve() for f in files}
    for mismatch in consistency.mismatches(layout):
        if whole_project or mismatch.copy.file.resolve() in checked or mismatch.owner.file.resolve() in checked:
            problems.append(Problem(mismatch.copy.file, mismatch.copy.field, mismatch.message))
    return problems


def validate_file(root: Path, file: Path, catalog: LocalCatalog) -> list[Problem]:
    if file.name == "MLTable":
        return _check_mltable(file)
    try:
        document = azureml.read_yaml(file)
    except MlopsError as exc:
        return [Problem(file, "", _strip_file(exc, file))]
    if _is_conda_file(document):
        return []
    kind = (azureml.schema_name(document) or "").lower()
    if not kind:
        return [Problem(file, "$schema", "missing; name the Azure ML schema so the right loader reads this file")]
    if kind in ("pipelinejob", "commandjob", "sweepjob", "automljob"):  # loaded as `mlops job run` loads them
        return _check_pipeline(root, file, document, None, catalog)
    try:
        entity = azureml.load_entity(file)
    except MlopsError as exc:
        return [Problem(file, "", _strip_file(exc, file))]
    checks = {
        "managedonlinedeployment": _check_deployment,
        "kubernetesonlinedeployment": _check_deployment,
        "modelbatchdeployment": _check_deployment,
        "batchdeployment": _check_deployment,
        "commandcomponent": _check_component,
        "data": _check_data,
        "environment": _check_environment,
        "monitorschedule": _check_monitor,
        "schedule": _check_schedule,
    }
    check = checks.get(kind)
    return check(root, file, document, entity, catalog) if check else []


def _strip_file(exc: Exception, file: Path) -> str:
    return str(exc).removeprefix(f"{file}: ")


def _is_conda_file(document: dict[str, Any]) -> bool:
    return "$schema" not in document and "dependencies" in document


def _check_component(root: Path, file: Path, document: dict, component: Any, catalog: LocalCatalog) -> list[Problem]:
    problems = [Problem(file, key, azureml.UNKNOWN_FIELD) for key in azureml.unknown_component_keys(document)]
    name = str(document.get("name", ""))
    if not COMPONENT_NAME.match(name):
        problems.append(Problem(file, "name", f"{name!r}: use lowercase letters, digits and underscores"))
    if "version" not in document:
        problems.append(Problem(file, "version", "missing; components in this repo are versioned"))
    if "is_deterministic" not in document:
        problems.append(Problem(file, "is_deterministic", "missing; say whether outputs may be reused"))
    for port_name in document.get("inputs") or {}:
        if port_name.lower() in RESERVED_INPUT_NAMES:
            problems.append(
                Problem(file, f"inputs.{port_name}", f"'{port_name}' is a reserved name (an environment variable)")
            )
    problems += _check_command(file, document)
    problems += _check_code(file, document)
    problems += _check_environment_reference(catalog, file, document.get("environment"))
    return problems


def _check_command(file: Path, document: dict) -> list[Problem]:
    command = str(document.get("command") or "")
    inputs = document.get("inputs") or {}
    outputs = document.get("outputs") or {}
    problems = []
    for kind, name in sorted({(k, n) for k, n in PLACEHOLDER.findall(command)}):
        declared = inputs if kind == "inputs" else outputs
        if name not in declared:
            problems.append(Problem(file, "command", f"${{{{{kind}.{name}}}}} is not declared under {kind}"))
    for kind, name in sorted(required_placeholders(command)):
        port = inputs.get(name) if kind == "inputs" else None
        if isinstance(port, dict) and port.get("optional") and port.get("default") is None:
            problems.append(
                Problem(file, "command", f"optional input '{name}' must be wrapped in $[[ ]] in the command")
            )
    for name in inputs:
        if ("inputs", name) not in {(k, n) for k, n in PLACEHOLDER.findall(command)}:
            problems.append(Problem(file, f"inputs.{name}", "declared but the command never uses it"))
    return problems


def _check_deployment(root: Path, file: Path, document: dict, entity: Any, catalog: LocalCatalog) -> list[Problem]:
    """Online and batch deployments: the scoring code and the environment they name must exist."""
    problems = _check_environment_reference(catalog, file, document.get("environment"))
    code = document.get("code_configuration") or {}
    if isinstance(code, dict) and code:
        folder = file.parent / str(code.get("code", "."))
        if not folder.is_dir():
            problems.append(Problem(file, "code_configuration.code", f"{code.get('code')} does not exist"))
        elif not (folder / str(code.get("scoring_script", ""))).is_file():
            problems.append(
                Problem(
                    file,
                    "code_configuration.scoring_script",
                    f"{code.get('scoring_script')} not found in {code.get('code')}",
                )
            )
    model = document.get("model")
    if isinstance(model, str) and not _is_versioned_model(model):
        problems.append(Problem(file, "model", f"{model!r}: expected azureml:<name>:<version> of a registered model"))
    return problems


def _is_versioned_model(text: str) -> bool:
    try:
        return parse_ref(text).version is not None
    except MlopsError:
        return False


def _check_code(file: Path, document: dict) -> list[Problem]:
    problems = []
    code = document.get("code")
    if isinstance(code, str) and not code.startswith(("azureml:", "http")) and not (file.parent / code).exists():
        problems.append(Problem(file, "code", f"{code} does not exist (relative to the component file)"))
    for index, include in enumerate(document.get("additional_includes") or []):
        if isinstance(include, str) and not (file.parent / include).exists():
            problems.append(Problem(file, f"additional_includes[{index}]", f"{include} does not exist"))
    return problems


def _check_environment_reference(catalog: LocalCatalog, file: Path, environment: Any) -> list[Problem]:
    if not isinstance(environment, str):
        return []
    try:
        ref = parse_ref(environment)
    except MlopsError:
        ref = None
    if ref is None or (ref.version is None and ref.label is None):
        return [Problem(file, "environment", f"{environment!r}: expected azureml:<name>:<version> or a registry URI")]
    if ref.registry:
        return []
    try:
        catalog.environment(environment)
    except MlopsError:
        known = ", ".join(e.reference.removeprefix("azureml:") for e in catalog.environments) or "none"
        return [Problem(file, "environment", f"{environment} is not defined in environments/*/ (defined: {known})")]
    return []


def _check_pipeline(root: Path, file: Path, document: dict, job: Any, catalog: LocalCatalog) -> list[Problem]:
    try:
        pipeline = load_pipeline(file)
    except MlopsError as exc:
        return [Problem(file, "", _strip_file(exc, file))]
    problems = [Problem(file, *_split_field(p)) for p in pipeline.problems]
    data_inputs = [(f"inputs.{n}", s) for n, s in pipeline.inputs.items() if isinstance(s, DataInput)]
    for step in pipeline.steps.values():
        data_inputs += [(f"jobs.{step.name}.inputs.{n}", s) for n, s in step.inputs.items() if isinstance(s, DataInput)]
    for field, source in data_inputs:
        if source.registered_model:
            continue  # a registered model version: the registry's, not a file's (`mlops job run` resolves it)
        problems += _check_data_path(file, f"{field}.path", source.path, catalog)
    return problems


def _split_field(problem: str) -> tuple[str, str]:
    field, _, message = problem.partition(": ")
    return field, message


def _check_data_path(file: Path, field: str, path: str, catalog: LocalCatalog) -> list[Problem]:
    if is_asset_ref(path):
        try:
            catalog.data(path)
        except MlopsError as exc:
            return [Problem(file, field, str(exc))]
        return []
    if is_storage_uri(path) or (file.parent / path).exists():
        return []
    return [Problem(file, field, f"{path} does not exist (relative to {file.name})")]


def _check_data(root: Path, file: Path, document: dict, data: Any, catalog: LocalCatalog) -> list[Problem]:
    path = str(document.get("path", ""))
    problems = _check_data_path(file, "path", path, catalog)
    local = file.parent / path
    if not problems and "://" not in path:
        kind = str(document.get("type", "uri_folder"))
        if kind == "uri_file" and not local.is_file():
            problems.append(Problem(file, "path", f"type uri_file needs a file; {path} is a folder"))
        if kind == "mltable" and not (local / "MLTable").is_file():
            problems.append(Problem(file, "path", f"type mltable needs a folder with an MLTable file; {path} has none"))
    return problems


def _check_environment(root: Path, file: Path, document: dict, env: Any, catalog: LocalCatalog) -> list[Problem]:
    problems = []
    conda = document.get("conda_file")
    if isinstance(conda, str) and not (file.parent / conda).is_file():
        problems.append(Problem(file, "conda_file", f"{conda} does not exist (relative to {file.name})"))
    build = document.get("build") or {}
    if isinstance(build, dict) and isinstance(build.get("path"), str) and not (file.parent / build["path"]).exists():
        problems.append(Problem(file, "build.path", f"{build['path']} does not exist"))
    if not document.get("image") and not build:
        problems.append(Problem(file, "image", "an environment needs an image (with conda_file) or build.path"))
    return problems


def _check_model_definition(file: Path) -> list[Problem]:
    try:
        load_model_definition(file)
    except MlopsError as exc:
        return [Problem(file, "", _strip_file(exc, file))]
    return []


def _check_mltable(file: Path) -> list[Problem]:
    try:
        document = azureml.read_yaml(file)
    except MlopsError as exc:
        return [Problem(file, "", _strip_file(exc, file))]
    paths = document.get("paths")
    if not isinstance(paths, list) or not paths:
        return [Problem(file, "paths", "an MLTable needs a non-empty list of paths")]
    problems = []
    for index, entry in enumerate(paths):
        if not isinstance(entry, dict) or len(entry) != 1:
            problems.append(Problem(file, f"paths[{index}]", "expected one of file:, folder: or pattern:"))
            continue
        ((kind, value),) = entry.items()
        if kind not in ("file", "folder", "pattern"):
            problems.append(Problem(file, f"paths[{index}]", f"unknown kind '{kind}' (file, folder or pattern)"))
        elif kind != "pattern" and "://" not in str(value) and not (file.parent / str(value)).exists():
            problems.append(Problem(file, f"paths[{index}].{kind}", f"{value} does not exist"))
    return problems


# --- monitor schedules (monitoring/*.yml) ------------------------------------------------------------------------


def _check_monitor(root: Path, file: Path, document: dict, schedule: Any, catalog: LocalCatalog) -> list[Problem]:
    """What the local monitor reads beyond Azure's schema: the `mlops.*` properties (retrain rule, positive label,
    minimum window rows, prediction coverage, malformed-line share: type and range) and the signal settings it
    honours. The same reader as `mlops monitor`, so validate refuses what a monitor run would."""
    from mlops.monitoring.config import parse_config
    from mlops.monitoring.errors import MonitorInputError

    try:
        parse_config(file, document)
    except MonitorInputError as exc:
        return [Problem(file, *_split_field(_strip_file(exc, file)))]
    return _check_schedule(root, file, document, schedule, catalog)


def _check_schedule(root: Path, file: Path, document: dict, schedule: Any, catalog: LocalCatalog) -> list[Problem]:
    """A schedule's name and trigger (it computes fire times as Azure ML reads it), and the job it creates."""
    from mlops.project import schedules

    problems = [Problem(file, *p) for p in schedules.document_problems(document) + schedules.trigger_problems(schedule)]
    try:
        _, job_file, settings = (
            schedules.create_job_of(file, document) if "create_job" in document else (None, None, ())
        )
    except MlopsError as exc:
        return [*problems, Problem(file, *_split_field(_strip_file(exc, file)))]
    for problem in validate_file(root, job_file, catalog) if job_file else []:  # load_schedule checked it exists
        problems.append(Problem(file, "create_job", problem.render(root)))
    if job_file and settings:  # a create_job mapping's own job settings, applied as a run applies them
        problems += [Problem(file, "create_job", p) for p in schedules.override_problems(job_file, settings)]
    return problems
