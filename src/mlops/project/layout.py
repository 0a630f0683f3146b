"""The project's layout as one object: where every kind of definition and every piece of local state lives.

Nothing else in the package spells a repo path such as `endpoints/online` or `.mlops/collected`: it asks the
`Layout` (found once per command with `Layout.find()`) or its `StateDir`. Local state lives in one ignored folder,
`.mlops/` at the project root, so deleting it is a clean slate; `MLOPS_HOME` moves it (tests use a temporary folder).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from mlops.errors import MlopsError
from mlops.project.catalog import LocalCatalog
from mlops.project.model import ModelDefinition, load_model_definition

STATE_DIR_NAME = ".mlops"
# A project is a folder holding both of these.
MARKERS = ("pipelines", "components")


@dataclass(frozen=True)
class StateDir:
    """The layout of the local state folder."""

    root: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def registry_lock(self) -> Path:
        """The file lock every local champion change holds (register_model, mlops promote): one writer at a time."""
        return self.root / "registry.lock"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def collected(self) -> Path:
        return self.root / "collected"

    @property
    def batch(self) -> Path:
        return self.root / "batch"

    @property
    def monitoring(self) -> Path:
        return self.root / "monitoring"

    @property
    def monitor_history(self) -> Path:
        return self.monitoring / "history"

    def collected_for(self, endpoint: str, deployment: str, model: str) -> Path:
        """Inference data the local endpoint collected, one folder per endpoint, deployment and model (so a window
        never mixes two models' traffic)."""
        return self.collected / endpoint / deployment / model

    def ensure(self) -> StateDir:
        for folder in (self.root, self.artifacts, self.runs, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self


@dataclass(frozen=True)
class Layout:
    """Where a project keeps its definitions (all relative to `root`) and its local state (`state_root`, default
    `MLOPS_HOME` or `<root>/.mlops`)."""

    root: Path
    state_root: Path | None = None
    in_project: bool = True  # False: a job file's own folder, outside any project (`for_job`)

    @classmethod
    def for_job(cls, job_file: Path) -> Layout:
        """The project a job YAML belongs to (`find` from its folder) or, outside any project, its own folder: paths
        resolve relative to the file as on Azure, `azureml:` references have no catalog to resolve them, and the
        state goes to `MLOPS_HOME` or `./.mlops` in the working directory (like MLflow's `./mlruns`)."""
        try:
            return cls.find(job_file.resolve().parent)
        except MlopsError:  # `state` still prefers MLOPS_HOME; only the fallback moves to the working directory
            state = None if os.environ.get("MLOPS_HOME") else Path.cwd().resolve() / STATE_DIR_NAME
            return cls(job_file.resolve().parent, state_root=state, in_project=False)

    @classmethod
    def find(cls, start: Path | None = None) -> Layout:
        """The project at `MLOPS_PROJECT_ROOT`, or the nearest folder at or above `start` (default: the working
        directory) that holds both `pipelines/` and `components/`."""
        env = os.environ.get("MLOPS_PROJECT_ROOT")
        if env:
            return cls(Path(env).resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if all((folder / marker).is_dir() for marker in MARKERS):
                return cls(folder)
        raise MlopsError(
            f"no project found at or above {here} (looked for a folder with {' and '.join(m + '/' for m in MARKERS)})"
        )

    # --- definitions -----------------------------------------------------------------------------------------
    @property
    def models(self) -> Path:
        """One model definition per file (`models/<name>.yml`): everything about a model, written once."""
        return self.root / "models"

    def model_files(self) -> list[Path]:
        return sorted(self.models.glob("*.yml")) if self.models.is_dir() else []

    def for_model(self, name: str | None = None) -> ModelLayout:
        """Where one model's files are; `name` may be a `NAME:VERSION` model spec (the version is ignored here)."""
        return ModelLayout(self, self.model(name.partition(":")[0] if name else None))

    def model(self, name: str | None = None) -> ModelDefinition:
        """The definition named `name`; without a name, the project's only model."""
        files = self.model_files()
        if name is None:
            if len(files) == 1:
                return load_model_definition(files[0])
            defaults = [d for d in map(load_model_definition, files) if d.default]
            if len(defaults) == 1:
                return defaults[0]
            names = ", ".join(f.stem for f in files) or "none"
            why = "several say default: true" if defaults else "none says default: true"
            raise MlopsError(f"{self.models}: name the model with --model NAME (defined: {names}; {why})")
        file = self.models / f"{name}.yml"
        if not file.is_file():
            names = ", ".join(f.stem for f in files) or "none"
            raise MlopsError(f"{file}: no model definition named '{name}' (defined: {names}); `mlops init` writes one")
        return load_model_definition(file)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def components(self) -> Path:
        return self.root / "components"

    @property
    def shared_components(self) -> Path:
        """Code the components share through `additional_includes` (the engine may import it, not the reverse)."""
        return self.components / "shared"

    @property
    def environments(self) -> Path:
        return self.root / "environments"

    @property
    def pipelines(self) -> Path:
        return self.root / "pipelines"

    @property
    def infra(self) -> Path:
        return self.root / "infra"

    def infra_profile(self, name: str) -> Path:
        """An environment's Bicep parameters (dev, prod, …): the cluster's and the online deployments' sizes."""
        return self.infra / f"{name}.bicepparam"

    @property
    def workflows(self) -> Path:
        return self.root / ".github" / "workflows"

    @property
    def azure_config_files(self) -> tuple[Path, ...]:
        """Where `az ml` and `MLClient.from_config` look for the workspace, in order."""
        return (self.root / ".azureml" / "config.json", self.root / "config.json")

    # Folders `mlops validate` and `mlops azure ensure` search for Azure ML YAML.
    @property
    def definition_folders(self) -> tuple[Path, ...]:
        return (
            self.components,
            self.pipelines,
            self.data,
            self.environments,
            self.root / "endpoints",
            self.root / "monitoring",
            self.root / "schedules",
            self.infra,
        )

    # --- local state -----------------------------------------------------------------------------------------
    @cached_property
    def state(self) -> StateDir:
        if self.state_root is not None:
            return StateDir(self.state_root)
        env = os.environ.get("MLOPS_HOME")
        return StateDir(Path(env).resolve() if env else self.root / STATE_DIR_NAME)

    @cached_property
    def catalog(self) -> LocalCatalog:
        """The local stand-in for the workspace's registries (components, data, environments, models)."""
        return LocalCatalog(
            data=self.data,
            components=self.components,
            environments=self.environments,
            shared_code=self.shared_components,
            tracking_uri=self.state.tracking_uri,
            outside_project=None if self.in_project else self.root,
        )

    def relative(self, path: Path) -> str:
        """`path` relative to the project when inside it, else as given (for messages and tags)."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class ModelLayout:
    """Where one model's Azure ML YAML lives: the folders its definition's `files` names, and what is in them."""

    project: Layout
    definition: ModelDefinition

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def state(self) -> StateDir:
        return self.project.state

    @property
    def catalog(self) -> LocalCatalog:
        return self.project.catalog

    @property
    def pipeline(self) -> Path:
        return self.definition.path(self.project.root, "pipeline")

    @property
    def online_endpoints(self) -> Path:
        return self.definition.path(self.project.root, "online")

    @property
    def online_endpoint(self) -> Path:
        return self.online_endpoints / "endpoint.yml"

    def online_deployment(self, name: str) -> Path:
        return self.online_endpoints / f"{name}.yml"

    def online_deployment_names(self) -> list[str]:
        return sorted(p.stem for p in self.online_endpoints.glob("*.yml") if p != self.online_endpoint)

    @property
    def live_deployment(self) -> Path:
        """The deployment that takes live traffic (and that the monitor watches)."""
        return self.online_deployment(self.definition.live_deployment)

    @property
    def sample_request(self) -> Path:
        return self.online_endpoints / "sample-request.json"

    def sample_requests(self) -> list[Path]:
        return sorted(self.online_endpoints.glob("sample-request*.json"))

    @property
    def batch_endpoints(self) -> Path:
        return self.definition.path(self.project.root, "batch")

    @property
    def batch_endpoint(self) -> Path:
        return self.batch_endpoints / "endpoint.yml"

    @property
    def batch_deployment(self) -> Path:
        return self.batch_endpoints / "deployment.yml"

    @property
    def monitor_config(self) -> Path:
        return self.definition.path(self.project.root, "monitor")

    @property
    def drift_manifest(self) -> Path | None:
        """What a sample data generator drifted (the end-to-end proof of `mlops run`), when the model names one."""
        manifest = self.definition.drift_manifest
        return self.project.root / manifest if manifest else None


def git_commit(project_root: Path) -> str | None:
    """The current commit (with `-dirty` when the tree has changes), or None outside a git checkout."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=project_root, capture_output=True, text=True, check=True, timeout=10)
        return done.stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha
