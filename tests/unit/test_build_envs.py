"""--build-envs' venv identity and what it refuses (mlops.targets.local.envs); building is tested end to end in
tests/integration/test_job_yaml.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops.errors import MlopsError
from mlops.project.environments import Declared
from mlops.targets.local import envs


def declared(*pip: str, python: str | None = None) -> Declared:
    return Declared("azureml:e:1", Path("conda.yml"), python, pip)


def test_the_key_follows_the_requirements_and_the_python() -> None:
    assert envs.env_key(declared("six==1.16.0")) == envs.env_key(declared("six==1.16.0", python="3.11"))
    assert envs.env_key(declared("six==1.16.0")) != envs.env_key(declared("six==1.17.0"))
    assert envs.env_key(declared("six==1.16.0"), "3.11.7") != envs.env_key(declared("six==1.16.0"), "3.12.1")
    assert envs.env_key(declared("six==1.16.0", "# a comment")) == envs.env_key(declared("six==1.16.0"))


def test_another_python_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    other = f"{sys.version_info.major}.{sys.version_info.minor + 1}"
    with pytest.raises(MlopsError, match=rf"python={other}, and this machine's Python is"):
        envs.built_env(declared("six==1.16.0", python=other), tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_cached_environment_is_used_without_uv(tmp_path: Path, monkeypatch) -> None:
    ready = tmp_path / envs.env_key(declared("six==1.16.0"))
    (ready / "bin").mkdir(parents=True)
    (ready / envs.READY).write_text("azureml:e:1\n")
    monkeypatch.setattr(envs, "uv_binary", lambda: pytest.fail("no build for a cached environment"))
    assert envs.built_env(declared("six==1.16.0"), tmp_path) == ready / "bin"
