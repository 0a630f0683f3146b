"""A pipeline job YAML, loaded with azure-ai-ml, as a plan the local executor (and `mlops validate`) can walk.

The loaders do the parsing and schema checks (and apply `--set` overrides exactly as `az ml job create --set`
does, through `params_override`); this module reads the result: steps, their components, and where each step
input comes from. It also checks what the SDK lets through: bindings to inputs, outputs or steps that don't exist,
unknown keys of a step or of the components the steps use, literal parameters outside their type, enum or range.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import AzureOnly, MlopsError
from mlops.project import automl, loaders, rai_dashboard
from mlops.project.distribution import Distribution
from mlops.project.layout import Layout
from mlops.project.parallel import Parallel
from mlops.project.parameters import PARAMETER_TYPES, check_parameter
from mlops.project.references import BINDING, is_asset_ref, parse_ref, strip_file_prefix
from mlops.project.sweep import Sweep

MODEL_TYPES = frozenset({"mlflow_model", "custom_model", "triton_model"})
DATA_TYPES = {"uri_file", "uri_folder", "mltable", *MODEL_TYPES}


@dataclass(frozen=True)
class ParentInput:
    name: str


@dataclass(frozen=True)
class StepOutput:
    step: str
    output: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class DataInput:
    type: str
    path: str  # a local path (relative to the pipeline file), or an azureml: reference

    @property
    def registered_model(self) -> bool:
        """A model version of the registry (azureml:<name>:<version>), not a file or a data asset."""
        return self.type in MODEL_TYPES and is_asset_ref(self.path)


Source = ParentInput | StepOutput | Literal | DataInput


@dataclass
class Step:
    name: str
    component: Any  # azure.ai.ml CommandComponent
    component_file: Path
    inputs: dict[str, Source] = field(default_factory=dict)
    outputs_to_parent: dict[str, str] = field(default_factory=dict)  # step output -> pipeline output
    environment: Any = None  # the component's `environment:` as written: a reference (azureml:name:version) or inline
    distribution: Distribution | None = None  # `distribution` + `resources.instance_count`: several processes
    parallel: Parallel | None = None  # a `type: parallel` step: its entry script runs on mini batches of files
    environment_variables: dict[str, str] = field(default_factory=dict)  # the step's (or command job's) own
    sweep: Sweep | None = None  # a sweep: trials of the component with sampled values for some inputs

    @property
    def upstream(self) -> set[str]:
        return {s.step for s in self.inputs.values() if isinstance(s, StepOutput)}


@dataclass
class Pipeline:
    """A job as steps. A `type: command` job is one step bound to the job's own inputs and outputs (`kind`
    "command": on Azure it is one run, not a pipeline with a child)."""

    path: Path
    job: Any  # azure.ai.ml PipelineJob, or the Command node load_job returns for a command job
    inputs: dict[str, Literal | DataInput]
    outputs: dict[str, str]  # name -> type
    steps: dict[str, Step]  # in execution order
    problems: list[str]
    kind: str = "pipeline"
    notice: str | None = None  # what the local target runs differently from Azure, said before it runs

    @property
    def name(self) -> str:
        return self.job.display_name or self.job.name or self.path.stem

    @property
    def experiment_name(self) -> str:
        return self.job.experiment_name or self.path.stem

    @property
    def force_rerun(self) -> bool:
        return bool(getattr(getattr(self.job, "settings", None), "force_rerun", False))

    @property
    def continue_on_step_failure(self) -> bool:
        value = getattr(getattr(self.job, "settings", None), "continue_on_step_failure", None)
        return True if value is None else bool(value)


def parse_overrides(assignments: list[str]) -> list[dict[str, str]]:
    """`inputs.x=y` strings (as given to `--set`) -> azure-ai-ml params_override entries."""
    overrides = []
    for text in assignments:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise MlopsError(f"--set {text!r}: expected KEY=VALUE, e.g. inputs.estimator=random_forest")
        overrides.append({key.strip(): value})
    return overrides


def load_pipeline(path: Path, overrides: list[str] | None = None) -> Pipeline:
    """A `type: pipeline` or `type: command` job YAML as steps; MlopsError when it cannot run locally at all."""
    path = path.resolve()
    raw = loaders.read_yaml(path)
    kind = str(raw.get("type", "")).lower()
    if kind == "command":
        return _load_command_job(path, raw, overrides)
    if kind == "sweep":
        return _load_sweep_job(path, raw, overrides)
    if kind == "automl":
        return _load_automl_job(path, raw, overrides)
    if kind != "pipeline":
        raise AzureOnly(
            f"{path}: type: {raw.get('type')!r}; the local target runs command, pipeline, sweep and automl jobs "
            "(submit other job types with --target azure)"
        )
    if rai_dashboard.is_dashboard(raw):
        return _load_rai_dashboard(path, raw, overrides)
    raw_jobs = raw.get("jobs") or {}
    for name, spec in raw_jobs.items():
        _check_step_type(path, name, spec)
        inline = (spec or {}).get(_component_key(spec))
        if isinstance(inline, dict):
            _check_code(path, f"{path}: jobs.{name}.component.", inline)
            _check_code(path, f"{path}: jobs.{name}.component.task.", inline.get("task"))
    # Checked before the SDK loads the job: its message for a missing component file is a page long.
    component_files = {
        name: resolve_component_reference(path, name, (spec or {}).get(_component_key(spec)))
        for name, spec in raw_jobs.items()
        if not isinstance((spec or {}).get(_component_key(spec)), dict)  # inline: the pipeline file itself
        and _step_kind(spec) != "automl"  # no component: the local target brings its own
    }
    override_entries = parse_overrides(overrides or [])
    _check_override_targets(path, raw, component_files, override_entries)
    job = loaders.load_job(path, override_entries)
    as_dict = job._to_dict()
    problems = [f"{where}: {loaders.UNKNOWN_FIELD}" for where in loaders.unknown_job_fields(job)]

    # Data paths come from the entities: `_to_dict()` prefixes local paths with "azureml:".
    inputs = {
        name: _pipeline_input(path, name, value, job.inputs[name])
        for name, value in (as_dict.get("inputs") or {}).items()
    }
    # `_to_dict()` drops an output declared with an empty body (`outputs: {name: }`); Azure makes it a uri_folder.
    outputs = {name: "uri_folder" for name in raw.get("outputs") or {}}
    outputs |= {name: (spec or {}).get("type", "uri_folder") for name, spec in (as_dict.get("outputs") or {}).items()}

    steps = _parse_steps(path, raw_jobs, as_dict.get("jobs") or {}, job.jobs, component_files, problems, "")

    problems += check_bindings(inputs, outputs, steps)
    problems += check_parameters(inputs, steps)
    ordered = _execution_order(path, steps)
    return Pipeline(path, job, inputs, outputs, {name: steps[name] for name in ordered}, problems)


def _parse_steps(
    path: Path,
    raw_jobs: dict[str, Any],
    dict_jobs: dict[str, Any],
    nodes: dict[str, Any],
    component_files: dict[str, Path],
    problems: list[str],
    prefix: str,
) -> dict[str, Step]:
    """The steps of a pipeline (or of a pipeline component, `prefix` "jobs.<node>.component: <file>: "): command
    steps as they are, `type: pipeline` steps replaced by their own steps (`_inline_pipeline_step`)."""
    steps: dict[str, Step] = {}
    nested: dict[str, tuple[Step, dict[str, tuple[str, str]]]] = {}
    for step_name, step_dict in dict_jobs.items():
        raw_step = raw_jobs.get(step_name) or {}
        if _step_kind(raw_step) == "automl":
            where = f"{prefix}jobs.{step_name}"
            steps[step_name] = _automl_step(path, where, step_name, raw_step, nodes[step_name], problems)
            continue
        raw_component = raw_step.get(_component_key(raw_step))
        if isinstance(raw_component, dict):
            node_component = nodes[step_name].trial if raw_step.get("type") == "sweep" else nodes[step_name].component
            component, component_file, where = node_component, path, "an inline component"
            document = raw_component
        else:
            component_file = component_files[step_name]
            component = loaders.load_component(component_file)
            where = os.path.relpath(component_file, path.parent)
            document = loaders.read_yaml(component_file)
        step = Step(step_name, component, component_file, environment=_environment_reference(document))
        for key in loaders.unknown_component_keys(document):
            problems.append(f"{prefix}jobs.{step_name}.component: {where}: {key}: {loaders.UNKNOWN_FIELD}")
        for input_name in raw_step.get("inputs") or {}:
            if input_name not in (component.inputs or {}):  # the SDK drops these without a word
                problems.append(
                    f"{prefix}jobs.{step_name}.inputs.{input_name}: component '{component.name}' has no input "
                    f"'{input_name}'"
                )
        for input_name, value in (step_dict.get("inputs") or {}).items():
            entity_input = nodes[step_name].inputs.get(input_name)
            source = _step_input(f"{prefix}jobs.{step_name}", input_name, value, entity_input, problems)
            if source is not None:
                step.inputs[input_name] = _anchored(source, path)
        for output_name, value in (raw_step.get("outputs") or {}).items():
            target = value if isinstance(value, str) else (value or {}).get("path")
            if isinstance(target, str):
                match = BINDING.match(target.strip())
                if match and match["parent_output"]:
                    step.outputs_to_parent[output_name] = match["parent_output"]
                else:
                    problems.append(
                        f"{prefix}jobs.{step_name}.outputs.{output_name}: expected ${{{{parent.outputs.<name>}}}}"
                    )
        if str(raw_step.get("type", "command")).lower() == "pipeline":
            inner, produced = _load_pipeline_component(component_file, component, where, problems, prefix, step_name)
            nested[step_name] = (step, produced)
            steps |= _inline_pipeline_step(step, component, inner)
            continue
        step.environment_variables = _variables(nodes[step_name])
        if str(raw_step.get("type", "command")).lower() == "sweep":
            step.sweep = Sweep.of(nodes[step_name], f"{path}: {prefix}jobs.{step_name}.")
            for parameter in step.sweep.parameters:
                if parameter.name not in (component.inputs or {}):
                    problems.append(
                        f"{prefix}jobs.{step_name}.search_space.{parameter.name}: component '{component.name}' "
                        f"has no input '{parameter.name}'"
                    )
                step.inputs[parameter.name] = Literal(parameter.value(0.0))  # sampled per trial; checked here
        elif str(raw_step.get("type", "command")).lower() == "parallel":
            written = raw_step.get("mini_batch_size", document.get("mini_batch_size"))
            step.parallel = Parallel.of(nodes[step_name], component, f"{path}: {prefix}jobs.{step_name}.", written)
        else:
            step.distribution = Distribution.of(nodes[step_name], f"{path}: {prefix}jobs.{step_name}.")
        steps[step_name] = step
    for step in steps.values():  # `${{parent.jobs.<nested>.outputs.<o>}}`: the inner step that produces <o>
        for name, source in step.inputs.items():
            if isinstance(source, StepOutput) and source.step in nested:
                producer = nested[source.step][1].get(source.output)
                if producer is None:
                    problems.append(
                        f"{prefix}jobs.{step.name}.inputs.{name}: binds to output '{source.output}' of step "
                        f"'{source.step}', which no step of its pipeline component binds"
                    )
                    step.inputs[name] = Literal(None)  # reported: no second problem about the same binding
                else:
                    step.inputs[name] = StepOutput(*producer)
    return steps


def _load_pipeline_component(
    file: Path, component: Any, where: str, problems: list[str], prefix: str, node: str
) -> tuple[dict[str, Step], dict[str, tuple[str, str]]]:
    """A pipeline component's steps (parsed like a pipeline's, relative to its own file), and for each of its
    outputs the (flattened step name, output) that produces it."""
    if file.suffix not in (".yml", ".yaml") or file == Path():
        raise MlopsError(f"{prefix}jobs.{node}.component: a pipeline step needs a pipeline component file")
    raw = loaders.read_yaml(file)
    raw_jobs = raw.get("jobs") or {}
    inner_prefix = f"{prefix}jobs.{node}.component: {where}: "
    for name, spec in raw_jobs.items():
        _check_step_type(file, name, spec)
        _check_code(file, f"{file}: jobs.{name}.component.", (spec or {}).get("component"))
    files = {
        name: resolve_component_reference(file, name, (spec or {}).get(_component_key(spec)))
        for name, spec in raw_jobs.items()
        if not isinstance((spec or {}).get(_component_key(spec)), dict)
    }
    as_dict = component._to_dict()
    inner = _parse_steps(file, raw_jobs, as_dict.get("jobs") or {}, component.jobs, files, problems, inner_prefix)
    declared = {name: Literal(None) for name in component.inputs or {}}
    problems += check_bindings(declared, {name: "" for name in component.outputs or {}}, inner)
    produced = {
        parent_output: (f"{node}.{step.name}", output)
        for step in inner.values()
        for output, parent_output in step.outputs_to_parent.items()
    }
    return inner, produced


def _inline_pipeline_step(node: Step, component: Any, inner: dict[str, Step]) -> dict[str, Step]:
    """The pipeline component's steps as steps of the enclosing pipeline, named `<node>.<step>`: their
    `${{parent.inputs.x}}` become what the node binds to x (or x's default), their steps' outputs are renamed,
    and outputs the node binds to the enclosing pipeline's outputs go there."""
    flattened: dict[str, Step] = {}
    for step in inner.values():
        sources: dict[str, Source] = {}
        for name, source in step.inputs.items():
            if isinstance(source, ParentInput):
                if source.name in node.inputs:
                    sources[name] = node.inputs[source.name]
                else:
                    default = getattr((component.inputs or {}).get(source.name), "default", None)
                    if default is not None:
                        sources[name] = Literal(default)
            elif isinstance(source, StepOutput):
                sources[name] = StepOutput(f"{node.name}.{source.step}", source.output)
            else:
                sources[name] = source
        to_parent = {
            output: node.outputs_to_parent[parent_output]
            for output, parent_output in step.outputs_to_parent.items()
            if parent_output in node.outputs_to_parent
        }
        name = f"{node.name}.{step.name}"
        flattened[name] = dataclasses.replace(step, name=name, inputs=sources, outputs_to_parent=to_parent)
    return flattened


def _anchored(source: Source, yaml_file: Path) -> Source:
    """A local data path as an absolute path: a pipeline component's paths are relative to its own file."""
    if isinstance(source, DataInput) and not is_asset_ref(source.path) and "://" not in source.path:
        return DataInput(source.type, str((yaml_file.parent / source.path).resolve()))
    return source


# Step types that run only on Azure ML (or that azure-ai-ml itself refuses in a pipeline).
AZURE_ONLY_STEPS = {
    "spark": "Spark needs a Spark pool or serverless Spark compute",
    "import": "an import job reads an external database or file system through an Azure ML connection",
    "data_transfer": "a data transfer job runs on Azure ML's data factory compute",
    "flow": "a prompt flow runs as a parallel step on Azure ML",
}
LOCAL_STEPS = {"command", "pipeline", "parallel", "sweep", "automl"}


def _check_code(yaml_file: Path, where: str, document: Any) -> None:
    """A local `code:` must exist relative to the YAML that names it (the SDK's own message is a page of JSON)."""
    code = document.get("code") if isinstance(document, dict) else None
    if not isinstance(code, str) or "://" in code or code.startswith(("azureml:", "git+")):
        return
    if code.startswith("file:"):
        raise MlopsError(f"{where}code: {code}: azure-ai-ml does not take a file: prefix on code; write {code[5:]}")
    if not (yaml_file.parent / code).exists():
        raise MlopsError(f"{where}code: {code} not found (relative to {yaml_file.parent})")


def _step_kind(spec: Any) -> str:
    return str((spec or {}).get("type", "command")).lower() if isinstance(spec, dict) else "command"


def _component_key(spec: Any) -> str:
    """Where a step names its component: `trial` for a sweep step, `component` for the others."""
    return "trial" if isinstance(spec, dict) and str(spec.get("type", "")).lower() == "sweep" else "component"


def _load_sweep_job(path: Path, raw: dict[str, Any], overrides: list[str] | None) -> Pipeline:
    """A standalone sweep job as one sweep step: its inline `trial` becomes a command component whose inputs are
    the job's inputs and the search space's parameters (`${{search_space.x}}` read as `${{inputs.x}}`)."""
    from azure.ai.ml import Input, Output
    from azure.ai.ml.entities import CommandComponent

    trial = raw.get("trial")
    if not isinstance(trial, dict):
        raise MlopsError(f"{path}: trial: a sweep job's trial is written inline (command, code, environment)")
    _check_code(path, f"{path}: trial.", trial)
    job = loaders.load_job(path, parse_overrides(overrides or []))
    problems = [f"{where}: {loaders.UNKNOWN_FIELD}" for where in loaders.unknown_job_fields(job)]
    sweep = Sweep.of(job, f"{path}: ")
    inputs, outputs = _job_ports(raw, job)
    declared: dict[str, Any] = {
        name: Input(type=source.type if isinstance(source, DataInput) else _parameter_type(source.value))
        for name, source in inputs.items()
    }
    for parameter in sweep.parameters:
        declared[parameter.name] = Input(type=_parameter_type(parameter.value(0.0)))
    command = re.sub(r"\$\{\{\s*search_space\.(\w+)\s*\}\}", r"${{inputs.\1}}", str(job.trial.command))
    component = CommandComponent(
        name=re.sub(r"\W+", "_", path.stem).lower(),
        command=command,
        code=job.trial.code,
        environment=job.trial.environment,
        environment_variables=job.trial.environment_variables,
        inputs=declared,
        outputs={name: Output(type=kind) for name, kind in outputs.items()},
        base_path=str(path.parent),
    )
    step = Step(_job_step_name(raw, path, "sweep"), component, path, environment=trial.get("environment"))
    step.environment_variables = _variables(job.trial)
    step.sweep = sweep
    extra = {p.name: Literal(p.value(0.0)) for p in sweep.parameters}  # sampled per trial; checked here
    return _one_step_job(path, job, "sweep", step, inputs, outputs, problems, extra)


AUTOML_DATA = ("training_data", "validation_data")  # the AutoML fields that name data (test_data is Azure's only)
AUTOML_BINDABLE = ("target_column_name", "positive_label")  # settings a pipeline may bind to its inputs


def _automl_step(path: Path, where: str, name: str, raw_step: dict[str, Any], node: Any, problems: list[str]) -> Step:
    """An AutoML pipeline step as the command step the local target runs (`automl.component`): its data fields
    and bindable settings become the step's inputs, its `best_model` output the step's."""
    spec = automl.AutoML.of(node, f"{path}: {where}.")
    data = {name: raw_step[name] for name in AUTOML_DATA if raw_step.get(name) is not None}
    layout = Layout.for_job(path)
    component = automl.component(
        spec, path.parent, layout.shared_components if layout.in_project else None, f"{path}: {where}.", data
    )
    step = Step(name, component, path)
    step.inputs = {name: Literal(value) for name, value in spec.arguments().items()}
    for name, value in [*data.items(), *((n, raw_step.get(n)) for n in AUTOML_BINDABLE)]:
        if value is None or (name in AUTOML_BINDABLE and "${{" not in str(value)):
            continue
        source = _step_input(where, name, value, None, problems)
        if source is not None:
            step.inputs[name] = _anchored(source, path)
    for output_name, value in (raw_step.get("outputs") or {}).items():
        if output_name != "best_model":
            problems.append(f"{where}.outputs.{output_name}: an AutoML step's output is best_model")
            continue
        target = value if isinstance(value, str) else (value or {}).get("path")
        match = BINDING.match(target.strip()) if isinstance(target, str) else None
        if match and match["parent_output"]:
            step.outputs_to_parent[output_name] = match["parent_output"]
    return step


def _load_automl_job(path: Path, raw: dict[str, Any], overrides: list[str] | None) -> Pipeline:
    """A standalone AutoML job as one step: its `training_data` (and `validation_data`) are the job's inputs, its
    best model the job's `best_model` output."""
    job = loaders.load_job(path, parse_overrides(overrides or []))
    problems = [f"{where}: {loaders.UNKNOWN_FIELD}" for where in loaders.unknown_job_fields(job)]
    spec = automl.AutoML.of(job, f"{path}: ")
    inputs: dict[str, Literal | DataInput] = {}
    for name in AUTOML_DATA:
        value = getattr(job, name, None)
        if value is None:
            continue
        if not getattr(value, "path", None):
            raise MlopsError(f"{path}: {name}.path: an mltable input needs a path")
        inputs[name] = DataInput("mltable", data_path(value))
    layout = Layout.for_job(path)
    shared = layout.shared_components if layout.in_project else None
    component = automl.component(spec, path.parent, shared, f"{path}: ", dict.fromkeys(inputs))
    step = Step(_job_step_name(raw, path, "automl"), component, path)
    outputs = {"best_model": "mlflow_model"}
    extra = {name: Literal(value) for name, value in spec.arguments().items()}
    return _one_step_job(path, job, "automl", step, dict(inputs), outputs, problems, extra)


def _load_rai_dashboard(path: Path, raw: dict[str, Any], overrides: list[str] | None) -> Pipeline:
    """Azure's RAI dashboard pipeline: the job as azure-ai-ml loads it (what `--target azure` submits), checked
    against the registry components' inputs (`rai_dashboard.problems`); locally one step, the project's own RAI
    component (components/rai), on the model and test data the dashboard's constructor reads."""
    job = loaders.load_job(path, parse_overrides(overrides or []))
    problems = rai_dashboard.problems(raw, exists=lambda relative: (path.parent / relative).exists())
    layout = Layout.for_job(path)
    component_file = layout.components / "rai" / "component.yml"
    if not layout.in_project or not component_file.is_file():
        raise AzureOnly(
            f"{path}: the RAI dashboard's components are in Azure's registry (submit with --target azure); locally "
            f"the project's components/rai runs in its place, and {layout.root} has none"
        )
    as_dict = job._to_dict()
    inputs = {
        name: _pipeline_input(path, name, value, job.inputs[name])
        for name, value in (as_dict.get("inputs") or {}).items()
    }
    component = loaders.load_component(component_file)
    step = Step("rai", component, component_file, environment=_environment_reference(loaders.read_yaml(component_file)))
    for name, source in rai_dashboard.local_inputs(raw).items():
        kind, _, value = source.partition(":")
        step.inputs[name] = ParentInput(value) if kind == "parent" else Literal(value)
    step.outputs_to_parent = {"insights": "insights"}  # where the local run says the report is
    steps = {"rai": step}
    problems += check_bindings(inputs, {"insights": "uri_folder"}, steps)
    notice = (
        f"{path.name} is Azure ML's Responsible AI dashboard (rai_tabular_* components of the azureml registry: "
        "--target azure runs them); locally the template's own RAI step (components/rai) runs on the same model "
        "and test data"
    )
    return Pipeline(path, job, inputs, {"insights": "uri_folder"}, steps, problems, notice=notice)


def _job_ports(raw: dict[str, Any], job: Any) -> tuple[dict[str, Literal | DataInput], dict[str, str]]:
    """A standalone job's inputs (data, or literals with `--set` applied: read from the loaded job) and outputs
    (an empty body is a uri_folder, as on Azure)."""
    inputs: dict[str, Literal | DataInput] = {}
    for name, value in (raw.get("inputs") or {}).items():
        entity_input = job.inputs[name]
        data = getattr(entity_input, "_data", None)
        if isinstance(value, dict) and str(value.get("type", "")) in DATA_TYPES:
            inputs[name] = DataInput(str(value["type"]), data_path(entity_input))
        else:
            inputs[name] = Literal(getattr(data, "default", data) if data is not None else value)
    outputs = {name: str((spec or {}).get("type", "uri_folder")) for name, spec in (raw.get("outputs") or {}).items()}
    return inputs, outputs


def _job_step_name(raw: dict[str, Any], path: Path, fallback: str) -> str:
    return re.sub(r"\W+", "_", str(raw.get("name") or path.stem)).strip("_") or fallback


def _one_step_job(
    path: Path,
    job: Any,
    kind: str,
    step: Step,
    inputs: dict[str, Literal | DataInput],
    outputs: dict[str, str],
    problems: list[str],
    extra_inputs: dict[str, Source] | None = None,
) -> Pipeline:
    """A standalone job as a pipeline of one step bound to the job's own inputs and outputs."""
    step.inputs = {name: ParentInput(name) for name in inputs} | (extra_inputs or {})
    step.outputs_to_parent = {name: name for name in outputs}
    steps = {step.name: step}
    problems += check_bindings(inputs, outputs, steps)
    problems += check_parameters(inputs, steps)
    return Pipeline(path, job, inputs, outputs, steps, problems, kind=kind)


def _parameter_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, float) else "string"


def _variables(node: Any) -> dict[str, str]:
    """`environment_variables` of a command job or step, as the process will see them (text)."""
    return {str(k): str(v) for k, v in (getattr(node, "environment_variables", None) or {}).items()}


def _environment_reference(document: dict[str, Any]) -> Any:
    return document.get("environment")


def _check_step_type(path: Path, name: str, spec: Any) -> None:
    """Refuse, before anything runs, a step the local target cannot run: one line naming the step and its type."""
    kind = str((spec or {}).get("type", "command")).lower()
    if kind in LOCAL_STEPS:
        return
    where = f"{path}: jobs.{name}"
    if kind in AZURE_ONLY_STEPS:
        raise AzureOnly(
            f"{where}: type {kind} runs on Azure ML only ({AZURE_ONLY_STEPS[kind]}); submit with --target azure"
        )
    raise AzureOnly(f"{where}: type {kind} does not run on the local target yet; submit with --target azure")


def _load_command_job(path: Path, raw: dict[str, Any], overrides: list[str] | None) -> Pipeline:
    """A standalone command job as one step (named after the job) whose inputs and outputs are the job's own."""
    _check_code(path, f"{path}: ", raw)
    job = loaders.load_job(path, parse_overrides(overrides or []))
    problems = [f"{where}: {loaders.UNKNOWN_FIELD}" for where in loaders.unknown_job_fields(job)]
    inputs, outputs = _job_ports(raw, job)
    step = Step(_job_step_name(raw, path, "command"), job.component, path, environment=_environment_reference(raw))
    step.distribution = Distribution.of(job, f"{path}: ")
    step.environment_variables = _variables(job)
    return _one_step_job(path, job, "command", step, inputs, outputs, problems)


def _check_override_targets(
    path: Path, raw: dict[str, Any], component_files: dict[str, Path], overrides: list[dict[str, str]]
) -> None:
    """`--set` on an input that does not exist would be dropped or ignored without a word: refuse it instead."""
    for key in (k for entry in overrides for k in entry):
        parts = key.split(".")
        if parts[0] == "inputs" and len(parts) >= 2:
            _known(path, key, parts[1], raw.get("inputs") or {}, "the pipeline declares no input")
        elif parts[0] == "jobs" and len(parts) >= 4 and parts[2] == "inputs":
            steps = raw.get("jobs") or {}
            _known(path, key, parts[1], steps, "the pipeline has no step")
            if _step_kind(steps[parts[1]]) == "automl":
                raise MlopsError(
                    f"{path}: --set {key}: an AutoML step has no inputs; set its fields (e.g. "
                    f"jobs.{parts[1]}.limits.max_trials=5)"
                )
            inline = (steps[parts[1]] or {}).get("component")
            component = inline if isinstance(inline, dict) else loaders.read_yaml(component_files[parts[1]])
            _known(path, key, parts[3], component.get("inputs") or {}, f"step '{parts[1]}' has no input")


def _known(path: Path, key: str, name: str, names: Any, message: str) -> None:
    if name in names:
        return
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise MlopsError(f"{path}: --set {key}: {message} '{name}'{hint}")


def resolve_component_reference(pipeline_path: Path, step: str, reference: Any) -> Path:
    """A step's `component:` as a YAML file: a path (optionally `file:`-prefixed) relative to the pipeline, or an
    `azureml:` reference, which the project's local catalog (components/*/component.yml) resolves."""
    where = f"{pipeline_path}: jobs.{step}.component"
    if not isinstance(reference, str):
        raise MlopsError(f"{where}: expected a component YAML path or azureml:<name>:<version> reference")
    if is_asset_ref(reference):
        return Layout.for_job(pipeline_path).catalog.component(reference, where).file
    relative = strip_file_prefix(reference)
    candidate = (pipeline_path.parent / relative).resolve()
    if not candidate.is_file():
        raise MlopsError(f"{where}: file {relative} not found (relative to {pipeline_path.parent})")
    document = loaders.read_yaml(candidate)
    _check_code(candidate, f"{where}: {relative}: ", document)
    _check_code(candidate, f"{where}: {relative}: task.", document.get("task"))
    return candidate


def data_path(entity_input: Any) -> str:
    """The path of a loaded data input (a pipeline or step input, whose Input is its `_data`, or an Input itself) as
    written. The loaded entity drops the `azureml:` of an asset reference (`azureml:numbers:1` -> `numbers:1`) while
    `_to_dict()` adds it to local paths too; put it back for references."""
    path = str(getattr(getattr(entity_input, "_data", entity_input), "path", "") or "")
    if "/" in path or "\\" in path or "://" in path:
        return path
    try:
        ref = parse_ref(f"azureml:{path}")
    except MlopsError:
        return path
    # A bare name would be a local file name ("data.csv"); a stripped reference always kept its :version or @label.
    return f"azureml:{path}" if ref.version or ref.label else path


def _pipeline_input(path: Path, name: str, value: Any, entity_input: Any) -> Literal | DataInput:
    if isinstance(value, dict):
        kind = str(value.get("type", ""))
        if kind in DATA_TYPES:
            written = data_path(entity_input)
            if not written:
                raise MlopsError(f"{path}: inputs.{name}.path: a {kind} input needs a path")
            return DataInput(kind, written)
        if "default" in value:
            return Literal(value["default"])
        if "value" in value:
            return Literal(value["value"])
        raise MlopsError(f"{path}: inputs.{name}: expected a value or a data input with type and path")
    return Literal(value)


def _step_input(where: str, name: str, value: Any, entity_input: Any, problems: list[str]) -> Source | None:
    """`where`: the step's field path (`jobs.train`, or inside a pipeline component `jobs.sub.component: f: jobs.a`)."""
    text = value.get("path") if isinstance(value, dict) and "type" not in value else value
    if isinstance(value, dict) and "type" in value:
        return DataInput(str(value["type"]), data_path(entity_input))
    if value is None or text is None:
        return None
    if isinstance(text, str) and "${{" in text:
        match = BINDING.match(text.strip())
        if not match or match["parent_output"]:
            problems.append(
                f"{where}.inputs.{name}: {text!r} is not a binding the template supports; expected "
                "${{parent.inputs.<name>}} or ${{parent.jobs.<step>.outputs.<name>}}"
            )
            return None
        if match["input"]:
            return ParentInput(match["input"])
        return StepOutput(match["step"], match["output"])
    return Literal(text)


def check_bindings(inputs: dict[str, Any], outputs: dict[str, str], steps: dict[str, Step]) -> list[str]:
    """What azure-ai-ml's `_validate()` lets through: bindings to names that do not exist, unknown or missing
    component inputs."""
    problems = []
    bound_parent_outputs: dict[str, str] = {}
    for step in steps.values():
        declared_inputs = dict(step.component.inputs or {})
        declared_outputs = dict(step.component.outputs or {})
        for input_name, source in step.inputs.items():
            where = f"jobs.{step.name}.inputs.{input_name}"
            if input_name not in declared_inputs:
                problems.append(f"{where}: component '{step.component.name}' has no input '{input_name}'")
            if isinstance(source, ParentInput) and source.name not in inputs:
                problems.append(f"{where}: binds to parent input '{source.name}', which the pipeline does not declare")
            if isinstance(source, StepOutput):
                if source.step not in steps:
                    problems.append(f"{where}: binds to step '{source.step}', which the pipeline does not have")
                elif source.output not in (steps[source.step].component.outputs or {}):
                    problems.append(
                        f"{where}: binds to output '{source.output}' of step '{source.step}', which its component "
                        "does not declare"
                    )
        for input_name, port in declared_inputs.items():
            if input_name in step.inputs or port.optional or port.default is not None:
                continue
            problems.append(f"jobs.{step.name}.inputs.{input_name}: required by the component but not given")
        for output_name, parent_output in step.outputs_to_parent.items():
            where = f"jobs.{step.name}.outputs.{output_name}"
            if output_name not in declared_outputs:
                problems.append(f"{where}: component '{step.component.name}' has no output '{output_name}'")
            if parent_output not in outputs:
                problems.append(
                    f"{where}: binds to parent output '{parent_output}', which the pipeline does not declare"
                )
            elif parent_output in bound_parent_outputs:
                problems.append(f"{where}: parent output '{parent_output}' is already bound by another step")
            bound_parent_outputs[parent_output] = step.name
    for name in outputs:
        if name not in bound_parent_outputs:
            problems.append(f"outputs.{name}: declared by the pipeline but no step binds to it")
    return problems


def check_parameters(inputs: dict[str, Any], steps: dict[str, Step]) -> list[str]:
    """Every literal a step's parameter input gets (from the step, a pipeline input or the component's default)
    against its declared type, enum and min/max (`seed: -1`, `test_size: nan`), with the local target's own check,
    so validate and a run refuse the same values before anything runs, as Azure does on submission."""
    problems = []
    for step in steps.values():
        for name, port in (step.component.inputs or {}).items():
            source = step.inputs.get(name)
            if str(port.type) not in PARAMETER_TYPES or isinstance(source, StepOutput | DataInput):
                continue
            if isinstance(source, ParentInput):
                parent = inputs.get(source.name)
                value = parent.value if isinstance(parent, Literal) else None
            else:
                value = source.value if isinstance(source, Literal) else port.default
            if value is None or (value == "" and port.optional):
                continue
            try:
                check_parameter(step.name, name, port, value)
            except MlopsError as exc:
                problems.append(str(exc))
    return problems


def _execution_order(path: Path, steps: dict[str, Step]) -> list[str]:
    """Dependencies first; otherwise the order the YAML lists the steps in."""
    waiting = {name: {up for up in step.upstream if up in steps} for name, step in steps.items()}
    order: list[str] = []
    while waiting:
        ready = [name for name, ups in waiting.items() if ups <= set(order)]
        if not ready:
            cycle = " -> ".join(dependency_cycle(waiting))
            raise MlopsError(
                f"{path}: jobs: the steps depend on each other in a cycle (each reads an output of the one before): "
                f"{cycle}"
            )
        order.append(ready[0])
        del waiting[ready[0]]
    return order


def dependency_cycle(upstream: dict[str, set[str]]) -> list[str]:
    """One cycle in a step graph where no step can start (`upstream`: step -> the steps it reads outputs of, in
    YAML order; every step waits on at least one of them). Only the steps on the cycle, in data-flow order,
    starting at the one listed first, which is repeated at the end: ["a", "b", "c", "a"] when b reads a, c reads b
    and a reads c. Steps that merely wait on the cycle are left out."""
    position = {name: index for index, name in enumerate(upstream)}
    walk: list[str] = []
    current = next(iter(upstream))
    while current not in walk:  # follow upstream edges until a step repeats: the walk has entered the cycle
        walk.append(current)
        current = min((up for up in upstream[current] if up in position), key=position.__getitem__)
    cycle = walk[walk.index(current) :][::-1]  # the walk goes against the data flow
    start = cycle.index(min(cycle, key=position.__getitem__))
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]
