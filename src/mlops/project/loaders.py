"""azure-ai-ml's own loaders, imported quietly, and which loader reads which YAML.

Every Azure ML YAML in the repo names its schema in `$schema`; the schema's file name picks the loader, so the
local target and Azure read a file the same way.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import MlopsError

# azure-ai-ml logs a warning for every experimental schema class it touches on import; they are noise here.
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)
logging.getLogger("azure.ai.ml").setLevel(logging.ERROR)

SCHEMA_PREFIXES = ("https://azuremlschemas.azureedge.net/", "http://azureml/sdk-2-0/")


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML file into a mapping, with an error that names the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MlopsError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise MlopsError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from exc
    if not isinstance(data, dict):
        raise MlopsError(f"{path}: expected a YAML mapping at the top level, got {type(data).__name__}")
    return data


def schema_name(document: dict[str, Any]) -> str | None:
    """`commandComponent` for `https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json`."""
    url = document.get("$schema")
    if not isinstance(url, str) or not url.startswith(SCHEMA_PREFIXES):
        return None
    name = url.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".schema.json", ".json"):
        name = name.removesuffix(suffix)
    return name


@cache
def _ml() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import azure.ai.ml as ml
        from azure.ai.ml.entities import _load_functions as private_loaders

    # Not exported at the top level in azure-ai-ml 1.35, but public in the module that defines every loader.
    for name in ("load_schedule", "load_model_batch_deployment", "load_pipeline_component_batch_deployment"):
        setattr(ml, name, getattr(private_loaders, name))
    return ml


# Lower-cased schema name -> name of the azure-ai-ml load function.
LOADERS: dict[str, str] = {
    "commandcomponent": "load_component",
    "pipelinecomponent": "load_component",
    "parallelcomponent": "load_component",
    "pipelinejob": "load_job",
    "commandjob": "load_job",
    "sweepjob": "load_job",
    "automljob": "load_job",
    "sparkjob": "load_job",
    "data": "load_data",
    "environment": "load_environment",
    "model": "load_model",
    "managedonlineendpoint": "load_online_endpoint",
    "kubernetesonlineendpoint": "load_online_endpoint",
    "managedonlinedeployment": "load_online_deployment",
    "kubernetesonlinedeployment": "load_online_deployment",
    "batchendpoint": "load_batch_endpoint",
    "modelbatchdeployment": "load_model_batch_deployment",
    "pipelinecomponentbatchdeployment": "load_pipeline_component_batch_deployment",
    "batchdeployment": "load_batch_deployment",
    "schedule": "load_schedule",
    "monitorschedule": "load_schedule",
    "amlcompute": "load_compute",
    "computeinstance": "load_compute",
    "workspace": "load_workspace",
    "azureblob": "load_datastore",
    "azuredatalakegen2": "load_datastore",
    "azurefile": "load_datastore",
    "registry": "load_registry",
}


def loader_for(path: Path, document: dict[str, Any]) -> Callable[..., Any]:
    name = schema_name(document)
    if name is None:
        raise MlopsError(f"{path}: $schema: missing or not an Azure ML schema URL; cannot tell which loader reads it")
    try:
        return getattr(_ml(), LOADERS[name.lower()])
    except KeyError as exc:
        raise MlopsError(f"{path}: $schema: no azure-ai-ml loader known for schema '{name}'") from exc


def load_entity(path: Path, **kwargs: Any) -> Any:
    """Load any Azure ML YAML with the loader its `$schema` names; loader errors name the file."""
    loader = loader_for(path, read_yaml(path))
    return call_loader(loader, path, **kwargs)


def call_loader(loader: Callable[..., Any], path: Path, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return loader(source=str(path), **kwargs)
        except MlopsError:
            raise
        except Exception as exc:  # the SDK raises many types; all mean "this YAML is not valid"
            raise MlopsError(f"{path}: {loader.__name__} rejected it: {_one_line(exc)}") from exc


def load_component(path: Path) -> Any:
    return call_loader(_ml().load_component, path)


def load_job(path: Path, params_override: list[dict[str, Any]] | None = None) -> Any:
    return call_loader(_ml().load_job, path, params_override=params_override or [])


def load_data(path: Path) -> Any:
    return call_loader(_ml().load_data, path)


# azure-ai-ml does not refuse these: it drops an unknown top-level key of a component without a word, and warns
# ("Unknown field.") about an unknown key of a pipeline step, then submits the job without it. Azure never sees
# the key, so what the author meant (`inptus:` for `inputs:`) silently does not happen: `mlops validate` and the
# local target refuse both, with the same message.
UNKNOWN_FIELD = "unknown field (azure-ai-ml would drop it without an error; remove or fix it)"


def unknown_component_keys(document: dict[str, Any]) -> list[str]:
    """Top-level keys of a component YAML that azure-ai-ml's schema for its `type` does not declare (unknown keys
    inside inputs and outputs the loader rejects itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from azure.ai.ml._schema.component import CommandComponentSchema, ParallelComponentSchema
        from azure.ai.ml._schema.pipeline.pipeline_component import PipelineComponentSchema

        schemas = {"command": CommandComponentSchema, "parallel": ParallelComponentSchema}
        schemas["pipeline"] = PipelineComponentSchema
        schema_class = schemas.get(str(document.get("type", "command")).lower())
        if schema_class is None:  # a type the loader itself refuses or this template does not run
            return []
        schema = schema_class(context={"base_path": "."})
    declared = {field.data_key or name for name, field in schema.fields.items()}
    return [key for key in document if key not in declared]


def unknown_job_fields(job: Any) -> list[str]:
    """Field paths of a loaded job (`jobs.train.inptus`) that azure-ai-ml's own validation flags "Unknown field."
    (a warning there, so the job would be submitted without them)."""
    if not hasattr(job, "_validate"):  # a SweepJob: azure-ai-ml keeps no such report for it
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = job._validate()._to_dict()
    return [
        str(diagnostic.get("path"))
        for diagnostic in report.get("warnings", [])
        if str(diagnostic.get("message", "")).strip() == "Unknown field."
    ]


def _one_line(exc: Exception) -> str:
    """The SDK's schema errors embed a JSON report; keep its field paths and the first clause of each message."""
    text = str(exc)
    start = text.find("{", text.find("failed:")) if "failed:" in text else -1
    if start >= 0:
        try:
            report, _ = json.JSONDecoder().raw_decode(text[start:])
            parts = [
                f"{error.get('path', '?')}: {str(error.get('message', '')).split('; ')[0].strip()}"
                for error in report.get("errors", [])
            ]
            if parts:
                text = "; ".join(parts)
        except ValueError:
            pass
    text = " ".join(text.split())
    return text if len(text) <= 600 else text[:600] + " …"


def scoring_code(path: Path, deployment: Any) -> tuple[Path, str]:
    """An online or batch deployment's code folder and scoring script, checked to exist (both local runners need
    them: `mlops serve` and the batch driver)."""
    code = deployment.code_configuration
    if code is None or not code.scoring_script:
        raise MlopsError(f"{path}: code_configuration.scoring_script: the local target runs the scoring script")
    code_dir = (path.parent / str(code.code)).resolve()
    if not (code_dir / code.scoring_script).is_file():
        raise MlopsError(f"{path}: code_configuration: {code.scoring_script} not found in {code_dir}")
    return code_dir, str(code.scoring_script)
