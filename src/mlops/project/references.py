"""The one parser of `azureml:` references, in every form azure-ai-ml and `az ml` accept.

- `azureml:<name>:<version>`   a version of a workspace asset
- `azureml:<name>@<label>`     a label (`latest` is the one the workspace always has)
- `azureml:<name>`             the latest version
- `azureml://registries/<registry>/<kind>/<name>/versions/<version>` (or `/labels/<label>`): an asset in a registry
- `azureml://datastores/...`, `azureml://subscriptions/...`: a storage path, not an asset (see `is_storage_uri`)

A `file:` prefix (`file:./component.yml`) marks a local path, as `load_job` allows; `strip_file_prefix` drops it.
A pipeline step binds to other values with `${{parent.…}}` (`BINDING`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlops.errors import MlopsError

PREFIX = "azureml:"
NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}"
VERSION = r"[A-Za-z0-9_.-]+"
LABEL = r"[A-Za-z0-9_-]+"
# A pipeline step's binding: ${{parent.inputs.x}}, ${{parent.jobs.step.outputs.y}} or ${{parent.outputs.z}}.
BINDING = re.compile(
    r"^\$\{\{\s*parent\.(?:inputs\.(?P<input>\w+)|jobs\.(?P<step>\w+)\.outputs\.(?P<output>\w+)"
    r"|outputs\.(?P<parent_output>\w+))\s*\}\}$"
)
WORKSPACE_REF = re.compile(rf"^azureml:(?P<name>{NAME}?)(?::(?P<version>{VERSION})|@(?P<label>{LABEL}))?$")
REGISTRY_REF = re.compile(
    rf"^azureml://registries/(?P<registry>[\w-]+)/(?P<kind>models|environments|components|data)/(?P<name>{NAME}?)"
    rf"/(?:versions/(?P<version>{VERSION})|labels/(?P<label>{LABEL}))$"
)
EXPECTED = (
    "azureml:<name>:<version>, azureml:<name>@latest or azureml://registries/<registry>/<kind>/<name>/versions/<v>"
)


@dataclass(frozen=True)
class AssetRef:
    """A parsed reference; `version` and `label` are both None for a bare name (= latest)."""

    name: str
    version: str | None = None
    label: str | None = None
    registry: str | None = None
    kind: str | None = None  # only registry URIs name the kind

    @property
    def is_latest(self) -> bool:
        return self.version is None and self.label in (None, "latest")

    def __str__(self) -> str:
        if self.registry:
            tail = f"versions/{self.version}" if self.version else f"labels/{self.label}"
            return f"azureml://registries/{self.registry}/{self.kind}/{self.name}/{tail}"
        if self.version:
            return f"{PREFIX}{self.name}:{self.version}"
        return f"{PREFIX}{self.name}" + (f"@{self.label}" if self.label else "")


def is_storage_uri(text: str) -> bool:
    """`azureml://datastores/…` and other URIs (https, wasbs, abfss): data that lives in storage, not an asset."""
    return "://" in text and not text.startswith("azureml://registries/")


def is_asset_ref(text: object) -> bool:
    """An `azureml:` asset reference (workspace or registry), as opposed to a local path or a storage URI."""
    return isinstance(text, str) and text.startswith(PREFIX) and not is_storage_uri(text)


def parse_ref(text: str, *, where: str = "") -> AssetRef:
    """Parse any asset reference; the error names `where` (file and field) and the forms expected."""
    text = text.strip()
    match = WORKSPACE_REF.match(text) or REGISTRY_REF.match(text)
    if not match:
        raise MlopsError(f"{where + ': ' if where else ''}{text!r} is not an asset reference; expected {EXPECTED}")
    groups = match.groupdict()
    return AssetRef(groups["name"], groups["version"], groups["label"], groups.get("registry"), groups.get("kind"))


def strip_file_prefix(text: str) -> str:
    """`file:./component.yml` -> `./component.yml` (a local path, as azure-ai-ml's loaders read it)."""
    return text[len("file:") :] if text.startswith("file:") else text
