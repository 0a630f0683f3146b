"""A step's declared environment against the venv the local target runs it in (mlops.project.environments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.errors import MlopsError
from mlops.project import environments
from mlops.project.environments import Declared, declared, differences
from mlops.project.layout import Layout

VENV = {"pandas": "3.1.1", "numpy": "2.4.6", "scikit-learn": "1.9.1"}


def env(python=None, *pip):
    return Declared("e", Path("conda.yml"), python, tuple(pip))


@pytest.mark.parametrize(
    ("declared_env", "expected"),
    [
        (env("3.11", "pandas==3.1.1", "numpy>=2", "scikit_learn~=1.9"), []),
        (env("3.11.7"), []),
        (env("3.10"), ["python=3.10 (venv has 3.11.7)"]),
        (env(None, "pandas==2.2.0"), ["pandas==2.2.0 (venv has 3.1.1)"]),
        (env(None, "numpy<2"), ["numpy<2 (venv has 2.4.6)"]),
        (env(None, "lightgbm"), ["lightgbm (not installed)"]),
        (env(None, "--extra-index-url https://example.org/simple", "-r other.txt", ""), []),
        (env(None, "pandas==="), ["pandas=== (not a pip requirement)"]),
    ],
)
def test_differences(declared_env, expected) -> None:
    assert differences(declared_env, VENV.get, "3.11.7") == expected


def test_environment_forms(tmp_path: Path) -> None:
    (tmp_path / "conda.yml").write_text("dependencies:\n  - python=3.11\n  - pip:\n      - pandas==3.1.1\n")
    (tmp_path / "env.yml").write_text("name: e\nversion: 1\nimage: x\nconda_file: conda.yml\n")
    job = tmp_path / "job.yml"
    by_reference = declared("azureml:e:1", job, lambda ref: tmp_path / "env.yml")
    inline = declared({"image": "x", "conda_file": "./conda.yml"}, job, lambda ref: pytest.fail("no lookup"))
    inline_conda = declared({"image": "x", "conda_file": {"dependencies": ["python=3.9"]}}, job, lambda r: job)
    assert by_reference == Declared("azureml:e:1", tmp_path / "conda.yml", "3.11", ("pandas==3.1.1",))
    assert inline.pip == ("pandas==3.1.1",) and inline.name == "inline in job.yml"
    assert inline_conda.python == "3.9" and inline_conda.pip == ()
    registry = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    assert declared(registry, job, lambda ref: pytest.fail("no lookup")) is None
    assert declared({"image": "x"}, job, lambda ref: job) is None
    with pytest.raises(MlopsError, match=r"conda_file: missing\.yml not found"):
        declared({"image": "x", "conda_file": "missing.yml"}, job, lambda ref: job)


def test_the_projects_own_environments_match_the_venv(repo_root: Path) -> None:
    """The lock and the environment files pin the same (tests/contract/test_pins.py): no warning for the repo."""
    layout = Layout(repo_root)
    components = sorted((repo_root / "components").glob("*/component.yml"))
    uses = [(f"azureml:{e.name}:{e.version}", repo_root) for e in layout.catalog.environments]
    assert uses and components
    assert environments.warnings_for(uses, lambda ref: layout.catalog.environment(ref).file) == []
