"""Resolve `azureml:` data references the way the workspace would, from the data asset YAML in `data/`.

`azureml:name:version`, `azureml:name@latest` and `azureml:name` (= latest) are looked up among the `data/*.yml`
files; the asset's `path` (relative to its YAML file) is what the local target mounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mlops.azureml import load_data, read_yaml, schema_name
from mlops.errors import MlopsError

REFERENCE = re.compile(r"^azureml:(?P<name>[A-Za-z0-9_.-]+?)(?:(?::(?P<version>[^:@/]+))|(?:@(?P<label>\w+)))?$")


@dataclass(frozen=True)
class DataAsset:
    name: str
    version: str
    type: str
    path: Path
    source: Path  # the YAML file that defines it

    @property
    def reference(self) -> str:
        return f"azureml:{self.name}:{self.version}"


class DataCatalog:
    """The data assets defined by YAML files in one folder."""

    def __init__(self, assets: list[DataAsset]):
        self.assets = assets

    @classmethod
    def from_folder(cls, folder: Path) -> DataCatalog:
        assets = []
        for yml in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
            if (schema_name(read_yaml(yml)) or "").lower() != "data":
                continue
            entity = load_data(yml)
            path = Path(entity.path)
            if not path.is_absolute():
                path = (yml.parent / path).resolve()
            assets.append(DataAsset(entity.name, str(entity.version), entity.type, path, yml))
        return cls(assets)

    def resolve(self, reference: str) -> DataAsset:
        match = REFERENCE.match(reference.strip())
        if not match:
            raise MlopsError(
                f"'{reference}' is not a data reference; expected azureml:<name>:<version> or azureml:<name>@latest"
            )
        name, version, label = match["name"], match["version"], match["label"]
        if label not in (None, "latest"):
            raise MlopsError(f"'{reference}': only the label @latest is supported for data assets")
        candidates = [a for a in self.assets if a.name == name]
        if not candidates:
            known = ", ".join(sorted({a.name for a in self.assets})) or "none"
            raise MlopsError(f"'{reference}': no data asset named '{name}' in data/*.yml (known: {known})")
        if version is None:
            return max(candidates, key=lambda a: _version_key(a.version))
        for asset in candidates:
            if asset.version == version:
                return asset
        versions = ", ".join(sorted((a.version for a in candidates), key=_version_key))
        raise MlopsError(f"'{reference}': data asset '{name}' has no version {version} (defined: {versions})")


def _version_key(version: str) -> tuple[int, int | str]:
    return (0, int(version)) if version.isdigit() else (1, version)
