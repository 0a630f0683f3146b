"""What a step's environment declares, against the venv the local target runs every step in.

Locally every step runs in the project's venv (built from requirements/lock.txt), not in the image and conda file
its environment names. That is faithful only while the environment asks for what the venv has, so before a run
the engine compares them and warns, once per environment, naming every package the venv lacks or pins
differently and a different Python. What is compared: the conda file's `python=` and its `pip:` requirements
(any specifier: `==`, `>=`, ranges), for an environment given as `azureml:<name>:<version>` (resolved from the
project's environments/), inline (`image` + `conda_file`), or as a conda file path. Not compared: conda packages
other than python, Docker build contexts, and curated or registry environments (`azureml://...`), which have no
file here.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.references import is_asset_ref


@dataclass(frozen=True)
class Declared:
    """An environment's declared runtime: where it is written, its python (conda `python=X.Y`) and pip lines."""

    name: str
    conda_file: Path
    python: str | None
    pip: tuple[str, ...]


def declared(environment: Any, yaml_file: Path, resolve: Callable[[str], Path]) -> Declared | None:
    """The conda file behind a step's `environment:` (None when there is none to read). `resolve` turns an
    `azureml:` reference into its environment YAML (the project's catalog)."""
    if isinstance(environment, str):
        if not is_asset_ref(environment) or environment.startswith("azureml://"):
            return None  # a curated or registry environment: nothing here to compare
        env_file = resolve(environment)
        document, name = loaders.read_yaml(env_file), environment
    elif isinstance(environment, dict):
        env_file, document, name = yaml_file, environment, f"inline in {yaml_file.name}"
    else:
        return None
    conda = document.get("conda_file")
    if isinstance(conda, dict):
        return _from_conda(name, env_file, conda)
    if not isinstance(conda, str):
        return None
    conda_file = (env_file.parent / conda).resolve()
    if not conda_file.is_file():
        raise MlopsError(f"{env_file}: conda_file: {conda} not found (relative to {env_file.parent})")
    return _from_conda(name, conda_file, loaders.read_yaml(conda_file))


def _from_conda(name: str, file: Path, conda: dict[str, Any]) -> Declared:
    dependencies = conda.get("dependencies") or []
    pythons = [d for d in dependencies if isinstance(d, str) and d.replace(" ", "").startswith("python=")]
    pip = [line for d in dependencies if isinstance(d, dict) for line in d.get("pip") or []]
    python = pythons[0].replace(" ", "").removeprefix("python=").strip("=") if pythons else None
    return Declared(name, file, python, tuple(str(line).strip() for line in pip))


def differences(
    declared_env: Declared,
    installed: Callable[[str], str | None] | None = None,
    python: str | None = None,
) -> list[str]:
    """What the venv does not match: `pkg==1.0 (venv has 2.0)`, `pkg (not installed)`, `python=3.10 (venv has
    3.11.4)`. `installed` gives a distribution's version (None: missing); `python` is the venv's version."""
    version_of = installed or _installed_version
    here = python or ".".join(map(str, sys.version_info[:3]))
    found = []
    if declared_env.python and not same_release(declared_env.python, here):
        found.append(f"python={declared_env.python} (venv has {here})")
    for line in declared_env.pip:
        if not line or line.startswith(("-", "#")) or "://" in line:
            continue  # pip options (--index-url, -r) and URLs are not packages to compare
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            found.append(f"{line} (not a pip requirement)")
            continue
        have = version_of(canonicalize_name(requirement.name))
        if have is None:
            found.append(f"{line} (not installed)")
        elif requirement.specifier and not requirement.specifier.contains(have, prereleases=True):
            found.append(f"{line} (venv has {have})")
    return found


def same_release(declared_python: str, actual: str) -> bool:
    """`3.11` (or `3.11.7`) names the release `actual` (`3.11.7`) is."""
    wanted = declared_python.split(".")
    return actual.split(".")[: len(wanted)] == wanted


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(canonicalize_name(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def warnings_for(
    uses: list[tuple[Any, Path]], resolve: Callable[[str], Path], shown: Callable[[Path], str] = str
) -> list[str]:
    """One line per environment among `uses` ((environment, the YAML naming it)) that the venv does not match."""
    lines, seen = [], set()
    for environment, yaml_file in uses:
        found = declared(environment, yaml_file, resolve)
        if found is None or (found.name, found.conda_file) in seen:
            continue
        seen.add((found.name, found.conda_file))
        gaps = differences(found)
        if gaps:
            lines.append(
                f"environment {found.name} ({shown(found.conda_file)}) asks for what this venv lacks or pins "
                f"differently: {', '.join(gaps)}; its steps run in the venv as it is"
            )
    return lines
