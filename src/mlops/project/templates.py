"""Write one model's Azure ML YAML from its definition (`models/<name>.yml`), with the Jinja2 templates in
`templates/model/` (templates/README.md).

`render_model` returns every file a model has — its definition, the training pipeline, the online endpoint and its
two deployments, the batch endpoint and deployment, the monitor schedule, and the data assets its definition
names that the project does not define yet — as text keyed by the path relative to the project root;
`write_files` writes them. `mlops init` infers a definition from a table and calls both; the project generator
(copier) renders the same templates. Rendering the sample model's definition gives its committed files
(tests/unit/test_model_templates.py), so the templates and the sample never drift.

Where a new model's files go (`new_model_files`): `pipelines/<name>.yml`, `endpoints/<name>/online/`,
`endpoints/<name>/batch/`, `monitoring/<name>.yml`; its data assets are `data/<asset>.yml` with the data under
`data/<name>/` (`<asset>` is the name its definition's reference gives, by convention `<name>-training`,
`<name>-production` and `<name>-ground-truth`).
"""

from __future__ import annotations

import json
import numbers
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
import yaml

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import Layout
from mlops.project.model import ModelDefinition, ModelFiles
from mlops.project.references import parse_ref

# The templates beside this package's checkout (a project generated from it carries its own copy).
PACKAGE_TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "model"
TEMPLATES_FOLDER = ("templates", "model")
# The folder every deployment uploads: the scoring scripts (online/score.py, batch/score.py) and their shared code.
SCORING_CODE = "endpoints"
# The environment folder whose environment the deployments run in (the project's environments serve every model).
INFERENCE_ENVIRONMENT = "inference"
DEPLOYMENTS = ("blue", "green")

# Today's monitor thresholds (monitoring/monitor.yml), as `metric_thresholds` blocks keyed by signal name; a
# caller's entry for a signal replaces the whole block (mlops init passes ones calibrated on the table).
DEFAULT_THRESHOLDS: dict[str, dict[str, Any]] = {
    "data_drift": {
        "numerical": {"normalized_wasserstein_distance": 0.1},
        "categorical": {"jensen_shannon_distance": 0.1},
    },
    "data_drift_tests": {
        "numerical": {"two_sample_kolmogorov_smirnov_test": 0.01},
        "categorical": {"pearsons_chi_squared_test": 0.01},
    },
    "prediction_drift": {
        "numerical": {"normalized_wasserstein_distance": 0.1},
        "categorical": {"jensen_shannon_distance": 0.1},
    },
    "data_quality": {
        "numerical": {"null_value_rate": 0.05, "data_type_error_rate": 0.0, "out_of_bounds_rate": 0.01},
        "categorical": {"null_value_rate": 0.05, "data_type_error_rate": 0.0, "out_of_bounds_rate": 0.0},
    },
    "feature_attribution_drift": {"normalized_discounted_cumulative_gain": 0.9},
    # Classification only: azure-ai-ml 1.35 cannot load a regression model_performance signal (its schema reads
    # mae/mse/rmse, the entity it builds takes mean_absolute_error/...), so a regression monitor has none.
    "model_performance": {"classification": {"accuracy": 0.7, "precision": 0.6, "recall": 0.45}},
}
RETRAIN_SIGNALS = ("data_drift", "prediction_drift", "feature_attribution_drift", "model_performance")
DEFAULT_ESTIMATOR = {"classification": "logistic_regression", "regression": "linear_regression"}


@dataclass(frozen=True)
class DataAsset:
    """A data asset YAML to write: `data/<name>.yml` pointing at `path` (relative to data/)."""

    name: str
    version: str
    type: str  # mltable | uri_file
    path: str
    description: str
    file: str = ""  # mltable: the data file inside the folder, named in its MLTable file


def new_model_files(name: str) -> ModelFiles:
    """Where a new model's Azure ML YAML goes (the `files:` block `mlops init` writes)."""
    return ModelFiles(
        pipeline=f"pipelines/{name}.yml",
        online=f"{SCORING_CODE}/{name}/online",
        batch=f"{SCORING_CODE}/{name}/batch",
        monitor=f"monitoring/{name}.yml",
    )


def render_model(
    root: Path,
    definition: ModelDefinition,
    *,
    thresholds: Mapping[str, Any] | None = None,
    files: ModelFiles | None = None,
    data_paths: Mapping[str, str] | None = None,
    estimator: str | None = None,
    inference_environment: str | None = None,
    project_name: str | None = None,
    compute: str = "cpu-cluster",
    alert_email: str = "mlops-alerts@example.com",
    template_dir: Path | None = None,
) -> dict[Path, str]:
    """Every file of the model (paths relative to `root`) -> its text.

    files: where the model's YAML goes; default `new_model_files(definition.name)` (the rendered definition's
      `files:` block says the same). Pass `definition.files` to re-render an existing model in place.
    thresholds: `metric_thresholds` blocks by monitor signal name, each replacing the default block
      (DEFAULT_THRESHOLDS). A regression monitor has no model_performance signal (azure-ai-ml 1.35 cannot load
      one), so its thresholds are refused there.
    data_paths: data asset name -> its data file relative to data/ (for the mltable training data, the file inside
      the MLTable folder); default `<model>/training/training.csv`, `<model>/<asset minus "<model>-">.csv`. A
      `.parquet` training file is read with read_parquet.
    """
    layout = Layout(root)
    files = files or new_model_files(definition.name)
    definition = replace(definition, files=files)
    context = _context(
        layout,
        definition,
        thresholds=thresholds,
        estimator=estimator,
        inference_environment=inference_environment,
        project_name=project_name,
        compute=compute,
        alert_email=alert_email,
    )
    env = environment(template_dir or _template_dir(root))
    online, batch = Path(files.online), Path(files.batch)
    out: dict[Path, str] = {
        Path("models") / f"{definition.name}.yml": env.get_template("models/model.yml.j2").render(context),
        Path(files.pipeline): env.get_template("pipelines/train.yml.j2").render(context),
        online / "endpoint.yml": env.get_template("endpoints/online/endpoint.yml.j2").render(context),
        batch / "endpoint.yml": env.get_template("endpoints/batch/endpoint.yml.j2").render(context),
        batch / "deployment.yml": env.get_template("endpoints/batch/deployment.yml.j2").render(context),
        Path(files.monitor): env.get_template("monitoring/monitor.yml.j2").render(context),
    }
    for deployment in (context["live_deployment"], context["candidate_deployment"]):
        template = env.get_template("endpoints/online/deployment.yml.j2")
        out[online / f"{deployment}.yml"] = template.render(context, deployment=deployment)
    for asset in _new_data_assets(layout, definition, data_paths or {}):
        out[Path("data") / f"{asset.name}.yml"] = env.get_template(f"data/{asset.type}.yml.j2").render(asset=asset)
        if asset.type == "mltable":
            out[Path("data") / asset.path / "MLTable"] = env.get_template("data/MLTable.j2").render(asset=asset)
    return out


def write_files(root: Path, rendered: Mapping[Path, str], *, force: bool = False) -> list[Path]:
    """Write `rendered` under `root`, each file atomically (a temporary file renamed into place). Refuses, before
    writing anything, when a file exists, unless `force`. Returns the paths written."""
    targets = [(root / relative, text) for relative, text in rendered.items()]
    existing = [path for path, _ in targets if path.exists()]
    if existing and not force:
        shown = ", ".join(str(p.relative_to(root)) for p in existing)
        raise MlopsError(f"{shown}: already exist(s); pass --force to overwrite")
    for path, text in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return [path for path, _ in targets]


# --- the Jinja environment ------------------------------------------------------------------------------------


def environment(folder: Path) -> jinja2.Environment:
    """StrictUndefined (a missing variable is an error), block tags on their own lines leave no blank line, and
    the YAML filters every template uses for values it did not write itself."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # YAML, not HTML
    )
    env.filters.update(yaml=yaml_scalar, yaml_text=yaml_text, yaml_flow=yaml_flow, yaml_block=yaml_block)
    return env


PLAIN = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-/@:,() ]*$")


def yaml_scalar(value: Any) -> str:
    """A scalar as YAML that reads back as the same value: plain when that is safe, else double-quoted."""
    value = _plain_value(value)
    if isinstance(value, str):
        if PLAIN.match(value) and ": " not in value and " #" not in value and yaml.safe_load(value) == value:
            return value
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    text = repr(value)
    return text if yaml.safe_load(text) == value else yaml.safe_dump(value).removesuffix("\n...\n")


def yaml_text(value: Any) -> str:
    """A value as a YAML string (None: the empty string, the pipeline's "not given"); 1.0 reads as "1"."""
    if value is None:
        return '""'
    value = _plain_value(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return yaml_scalar(str(value))


def yaml_flow(values: list[Any]) -> str:
    """A list on one line: `[a, b, c]`."""
    text = "[" + ", ".join(yaml_scalar(v) for v in values) + "]"
    return text if yaml.safe_load(text) == [_plain_value(v) for v in values] else json.dumps(values)


def yaml_block(value: Mapping[str, Any], indent: int) -> str:
    """A mapping as block YAML, every line indented by `indent` spaces (no trailing newline)."""
    text = yaml.safe_dump(_plain_value(value), sort_keys=False, default_flow_style=False, allow_unicode=True)
    return "\n".join(" " * indent + line for line in text.rstrip("\n").splitlines())


def _plain_value(value: Any) -> Any:
    """numpy scalars and other number types as Python's, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item"):  # numpy bool_ and friends
        return _plain_value(value.item())
    return value


# --- the context ----------------------------------------------------------------------------------------------


def _context(
    layout: Layout,
    definition: ModelDefinition,
    *,
    thresholds: Mapping[str, Any] | None,
    estimator: str | None,
    inference_environment: str | None,
    project_name: str | None,
    compute: str,
    alert_email: str,
) -> dict[str, Any]:
    root, files, name = layout.root, definition.files, definition.name
    live = definition.live_deployment
    candidate = next(d for d in DEPLOYMENTS if d != live)
    pipeline = root / files.pipeline
    twin = pipeline.with_name(f"{pipeline.stem}_pipeline.py")
    positive = definition.positive_label if definition.task == "classification" else None
    collected = f"azureml:{definition.online_endpoint}-{live}-model_"
    # model_performance: predictions joined to ground truth (classification only, see DEFAULT_THRESHOLDS)
    performance = bool(definition.ground_truth) and definition.task == "classification"
    return {
        "name": name,
        "default": definition.default,
        "task": definition.task,
        "target": definition.target,
        "positive_label": definition.positive_label,
        "monitor_positive_label": positive,
        "id_column": definition.id_column,
        "sensitive_feature": definition.sensitive_feature,
        "numeric_features": list(definition.numeric_features),
        "categorical_features": list(definition.categorical_features),
        "features": definition.features,
        "feature_types": {
            **dict.fromkeys(definition.numeric_features, "numerical"),
            **dict.fromkeys(definition.categorical_features, "categorical"),
        },
        "training_data": definition.training_data,
        "production_batches": list(definition.production_batches),
        "ground_truth": definition.ground_truth,
        "drift_manifest": definition.drift_manifest,
        "primary_metric": definition.primary_metric,
        "min_metric": definition.min_metric,
        "min_improvement": definition.min_improvement,
        "max_disparity": definition.max_disparity,
        "disparity_metric": definition.fairness_measure,
        "online_endpoint": definition.online_endpoint,
        "live_deployment": live,
        "candidate_deployment": candidate,
        "batch_endpoint": definition.batch_endpoint,
        "batch_deployment": "classifier" if definition.task == "classification" else "regressor",
        "files": files,
        "definition_file": f"models/{name}.yml",
        "display_name": f"train-{name}",
        "experiment_name": f"{name}-training",
        "sdk_twin": layout.relative(twin) if twin.is_file() else None,
        "components": _relative(layout.components, pipeline.parent),
        "scoring_code_online": _relative(root / SCORING_CODE, root / files.online) + "/",
        "scoring_code_batch": _relative(root / SCORING_CODE, root / files.batch) + "/",
        "inference_environment": inference_environment or _inference_environment(layout),
        "estimator": estimator or DEFAULT_ESTIMATOR[definition.task],
        "n_estimators": _train_default(layout, "n_estimators"),
        "monitor_name": re.sub(r"[^A-Za-z0-9_]", "_", name) + "_monitoring",
        "monitor_title": (name[:1].upper() + name[1:]).replace("-", " ").replace("_", " "),
        "model_inputs": collected + "inputs:1",
        "model_outputs": collected + "outputs:1",
        "thresholds": _thresholds(definition, thresholds or {}),
        "threshold_source": lambda signal: (
            "Thresholds given when this file was generated (mlops init measures them on a held-out window)."
            if signal in (thresholds or {})
            else "The template's default thresholds (monitoring/README.md explains each)."
        ),
        "performance": performance,
        "retrain_signals": [s for s in RETRAIN_SIGNALS if s != "model_performance" or performance],
        "project_name": project_name or _project_name(root),
        "compute": compute,
        "alert_email": alert_email,
    }


def _thresholds(definition: ModelDefinition, given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise MlopsError(f"thresholds: no monitor signal named {', '.join(unknown)} ({', '.join(DEFAULT_THRESHOLDS)})")
    chosen = {signal: dict(given.get(signal, block)) for signal, block in DEFAULT_THRESHOLDS.items()}
    if definition.task == "regression":
        if "model_performance" in given:
            raise MlopsError(
                "thresholds: model_performance: a regression monitor has no model_performance signal (azure-ai-ml "
                "1.35 cannot load regression thresholds from YAML)"
            )
        del chosen["model_performance"]
        if "prediction_drift" not in given:
            chosen["prediction_drift"].pop("categorical")  # a regression model's prediction is a number
    elif set(chosen["model_performance"]) != {"classification"}:
        raise MlopsError("thresholds: model_performance: expected {'classification': {accuracy, precision, recall}}")
    return chosen


def _new_data_assets(layout: Layout, definition: ModelDefinition, paths: Mapping[str, str]) -> list[DataAsset]:
    """The assets the definition names that no `data/*.yml` defines yet (the project's own are left alone)."""
    defined = _defined_data_assets(layout.data)
    name = definition.name
    wanted = [(definition.training_data, "mltable", f"Training data of the {name} model as an MLTable.")]
    wanted += [
        (ref, "uri_file", f"A production batch of the {name} model (unlabelled rows to score and monitor).")
        for ref in definition.production_batches
    ]
    if definition.ground_truth:
        labels = f"{definition.id_column}, {definition.target}"
        wanted.append((definition.ground_truth, "uri_file", f"Ground truth ({labels}) of the {name} production rows."))
    assets = []
    for reference, kind, description in wanted:
        ref = parse_ref(str(reference))
        if ref.registry or ref.name in defined:
            continue
        suffix = ref.name.removeprefix(f"{name}-") if ref.name != name else "data"
        path = paths.get(ref.name, f"{name}/{suffix}" + (f"/{suffix}.csv" if kind == "mltable" else ".csv"))
        file = ""
        if kind == "mltable":  # the folder, and the data file its MLTable names
            path, file = Path(path).parent.as_posix(), Path(path).name
        assets.append(DataAsset(ref.name, ref.version or "1", kind, path, description, file))
    return assets


def _defined_data_assets(folder: Path) -> set[str]:
    found: set[str] = set()
    for file in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        try:
            document = loaders.read_yaml(file)
        except MlopsError:
            continue
        if (loaders.schema_name(document) or "").lower() == "data" and "name" in document:
            found.add(str(document["name"]))
    return found


def _inference_environment(layout: Layout) -> str:
    folder = layout.environments / INFERENCE_ENVIRONMENT
    for file in sorted(folder.glob("*.y*ml")):
        document = loaders.read_yaml(file)
        if (loaders.schema_name(document) or "").lower() == "environment":
            return f"azureml:{document['name']}:{document.get('version', 1)}"
    raise MlopsError(f"{folder}: no environment YAML; the deployments run in the project's inference environment")


def _train_default(layout: Layout, name: str) -> Any:
    """A default of the train component's input (the pipeline repeats n_estimators, equal to it)."""
    file = layout.components / "train" / "component.yml"
    inputs = loaders.read_yaml(file).get("inputs") or {}
    if not isinstance(inputs.get(name), dict) or "default" not in inputs[name]:
        raise MlopsError(f"{file}: inputs.{name}.default: missing (the training pipeline repeats it)")
    return inputs[name]["default"]


def _project_name(root: Path) -> str:
    try:
        return str(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return root.name


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _template_dir(root: Path) -> Path:
    own = root.joinpath(*TEMPLATES_FOLDER)
    return own if own.is_dir() else PACKAGE_TEMPLATES
