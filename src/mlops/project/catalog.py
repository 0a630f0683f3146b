"""The local stand-in for the workspace's registries: what an `azureml:` reference means on the local target.

- data assets: `data/*.yml` (the asset's `path`, relative to its YAML file, is what the local target mounts);
- components: `components/*/component.yml`;
- environments: `environments/*/*.yml`;
- models: the local MLflow model registry; the champion is the version tagged `champion=true` (the components'
  own rule, `tabular_common.registry`, is the one rule both sides use).

Every reference is parsed by `mlops.project.references`; a reference the catalog cannot resolve is an error naming it
and what is defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.references import AssetRef, parse_ref
from mlops.project.shared_code import import_shared


@dataclass(frozen=True)
class Entry:
    """One versioned definition: a data asset, a component or an environment."""

    kind: str  # data | component | environment
    name: str
    version: str
    file: Path  # the YAML that defines it
    type: str = ""  # data assets: uri_file | uri_folder | mltable
    path: Path | None = None  # data assets: the local data it points at

    @property
    def reference(self) -> str:
        return f"azureml:{self.name}:{self.version}"


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


def version_key(version: str) -> tuple[int, int | str]:
    """Numeric versions sort as numbers and after nothing else; others sort as text."""
    return (0, int(version)) if version.isdigit() else (1, version)


def pick(entries: list[Entry], ref: AssetRef, kind: str, source: str, where: str) -> Entry:
    """The entry a parsed reference names among the definitions of one name."""
    label = f"{where + ': ' if where else ''}'{ref}'"
    if ref.registry:
        raise MlopsError(f"{label}: registry {ref.registry} is on Azure; the local target resolves workspace assets")
    candidates = [e for e in entries if e.name == ref.name]
    if not candidates:
        known = ", ".join(sorted({e.name for e in entries})) or "none"
        raise MlopsError(f"{label}: no {kind} named '{ref.name}' in {source} (known: {known})")
    if ref.label not in (None, "latest"):
        raise MlopsError(f"{label}: only the label @latest is supported locally")
    if ref.version is None:
        return max(candidates, key=lambda e: version_key(e.version))
    for entry in candidates:
        if entry.version == ref.version:
            return entry
    versions = ", ".join(sorted((e.version for e in candidates), key=version_key))
    raise MlopsError(f"{label}: {kind} '{ref.name}' has no version {ref.version} (defined: {versions})")


class LocalCatalog:
    """Components, data assets and environments defined by a project's YAML, and its local model registry."""

    def __init__(
        self,
        *,
        data: Path,
        components: Path,
        environments: Path,
        shared_code: Path,
        tracking_uri: str,
        outside_project: Path | None = None,
    ):
        self.folders = {"data": data, "components": components, "environments": environments}
        self.shared_code = shared_code
        self.tracking_uri = tracking_uri
        self.outside_project = outside_project  # a job's folder outside any project: no definitions to resolve

    # --- definitions read from YAML (cached for the life of one command) ---------------------------------------
    @cached_property
    def data_assets(self) -> list[Entry]:
        return data_assets_in(self.folders["data"])

    @cached_property
    def components(self) -> list[Entry]:
        return _versioned(
            sorted(self.folders["components"].glob("*/component.y*ml")), "component", ("commandcomponent",)
        )

    @cached_property
    def environments(self) -> list[Entry]:
        return _versioned(sorted(self.folders["environments"].glob("*/*.y*ml")), "environment", ("environment",))

    def data(self, reference: str, where: str = "") -> Entry:
        self._inside_a_project(reference, where, "a local path (path: ./table.csv)")
        return pick(self.data_assets, parse_ref(reference, where=where), "data asset", "data/*.yml", where)

    def component(self, reference: str, where: str = "") -> Entry:
        self._inside_a_project(reference, where, "a component file (component: ./component.yml)")
        return pick(self.components, parse_ref(reference, where=where), "component", "components/*/", where)

    def environment(self, reference: str, where: str = "") -> Entry:
        self._inside_a_project(reference, where, "an inline environment (image: ...)")
        return pick(self.environments, parse_ref(reference, where=where), "environment", "environments/*/", where)

    def _inside_a_project(self, reference: str, where: str, instead: str) -> None:
        if self.outside_project is not None:
            raise MlopsError(
                f"{where + ': ' if where else ''}'{reference}' is a workspace asset, and {self.outside_project} is "
                f"not in a project whose YAML defines it (a folder with pipelines/ and components/); use {instead}, "
                "or run from such a project"
            )

    # --- the local model registry (MLflow on SQLite) -----------------------------------------------------------
    def model(self, spec: str) -> ModelRef:
        """`NAME:VERSION`, or `NAME` for its champion (the version tagged champion=true; the highest if several)."""
        name, _, version = spec.removeprefix("azureml:").partition(":")
        tracking_uri = self.tracking_uri
        client = _mlflow_client(tracking_uri)
        # The components' own champion rule, so the engine and the gate agree on who the champion is.
        registry = import_shared(self.shared_code, "tabular_common.registry")
        try:
            versions = registry.search_versions(client, name)
        except registry.DataError as exc:
            raise MlopsError(f"--model {spec!r}: {exc}") from exc
        if not versions:
            raise MlopsError(f"model '{name}' is not registered in {tracking_uri}; run `mlops run` first")
        if version:
            if version not in {str(v.version) for v in versions}:
                known = ", ".join(sorted((str(v.version) for v in versions), key=version_key))
                raise MlopsError(f"model '{name}' has no version {version} (registered: {known})")
            return ModelRef(name, version)
        champion = registry.select_champion(versions)
        if champion is None:
            raise MlopsError(
                f"model '{name}' has no version tagged champion=true; name one with --model {name}:<version>"
            )
        return ModelRef(name, str(champion.version))


def data_assets_in(folder: Path) -> list[Entry]:
    """The data assets defined by `*.yml` in one folder, loaded with azure-ai-ml's data loader."""
    assets = []
    for yml in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        if (loaders.schema_name(loaders.read_yaml(yml)) or "").lower() != "data":
            continue
        entity = loaders.load_data(yml)
        path = Path(entity.path)
        if not path.is_absolute():
            path = (yml.parent / path).resolve()
        assets.append(Entry("data", entity.name, str(entity.version), yml, entity.type, path))
    return assets


def _versioned(files: list[Path], kind: str, schemas: tuple[str, ...]) -> list[Entry]:
    entries = []
    for yml in files:
        document = loaders.read_yaml(yml)
        if (loaders.schema_name(document) or "").lower() in schemas:
            entries.append(Entry(kind, str(document.get("name")), str(document.get("version")), yml))
    return entries


def _mlflow_client(tracking_uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
