"""One lock: every Azure environment pins exactly the versions in requirements/lock.txt, for the Python it runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from mlops.project import loaders as azureml


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[normalise(name)] = version
    return pins


def conda_mismatches(conda: dict, pins: dict[str, str], python: str) -> list[str]:
    """Differences between a conda spec and the lock (pip packages) and the project's Python (minor version)."""
    problems = []
    pip_lists = [d["pip"] for d in conda.get("dependencies", []) if isinstance(d, dict) and "pip" in d]
    pythons = [d for d in conda.get("dependencies", []) if isinstance(d, str) and d.startswith("python")]
    if pythons != [f"python={python}"]:
        problems.append(f"python: expected python={python}, found {pythons}")
    for requirement in [r for pip_list in pip_lists for r in pip_list]:
        name, sep, version = requirement.partition("==")
        if not sep:
            problems.append(f"{requirement}: not pinned with ==")
        elif normalise(name) not in pins:
            problems.append(f"{name}: not in requirements/lock.txt")
        elif pins[normalise(name)] != version:
            problems.append(f"{name}: {version} here, {pins[normalise(name)]} in the lock")
    return problems


def project_python(repo_root: Path) -> str:
    requires = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["requires-python"]
    return re.search(r">=\s*(\d+\.\d+)", requires).group(1)


def environment_conda_files(repo_root: Path) -> list[Path]:
    files = []
    for env_yaml in sorted((repo_root / "environments").glob("*/environment.yml")):
        document = azureml.read_yaml(env_yaml)
        if document.get("conda_file"):
            files.append(env_yaml.parent / document["conda_file"])
    return files


def test_there_is_at_least_one_environment(repo_root):
    assert environment_conda_files(repo_root)


@pytest.mark.parametrize("conda_file", environment_conda_files(Path(__file__).resolve().parents[2]), ids=str)
def test_environment_pins_equal_the_lock(repo_root, conda_file):
    conda = yaml.safe_load(conda_file.read_text())
    pins = lock_pins(repo_root / "requirements" / "lock.txt")
    assert conda_mismatches(conda, pins, project_python(repo_root)) == []


def test_a_drifted_pin_is_reported():
    conda = {"dependencies": ["python=3.10", {"pip": ["pandas==2.0.0", "numpy", "leftpad==1.0"]}]}
    problems = conda_mismatches(conda, {"pandas": "3.1.1", "numpy": "2.4.6"}, "3.11")
    assert problems == [
        "python: expected python=3.11, found ['python=3.10']",
        "pandas: 2.0.0 here, 3.1.1 in the lock",
        "numpy: not pinned with ==",
        "leftpad: not in requirements/lock.txt",
    ]


def test_the_lock_pins_every_top_level_requirement(repo_root):
    pins = lock_pins(repo_root / "requirements" / "lock.txt")
    wanted = [
        normalise(line.strip())
        for line in (repo_root / "requirements" / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert [name for name in wanted if name not in pins] == []
