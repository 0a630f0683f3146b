"""How many inference server workers a deployment runs: WORKER_COUNT of its YAML's environment_variables (what
azmlinfsrv reads on Azure), matched by its request_settings, and locally at most one per core."""

from __future__ import annotations

import pytest
import yaml
from scoring_scripts import ENDPOINTS

from mlops.errors import MlopsError
from mlops.targets.local.online import DEFAULT_WORKER_COUNT, Deployment, local_worker_count

DEPLOYMENTS = ["blue.yml", "green.yml"]


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_each_deployment_takes_as_many_requests_at_once_as_it_has_workers(name) -> None:
    document = yaml.safe_load((ENDPOINTS / "online" / name).read_text())
    workers = Deployment.from_yaml(ENDPOINTS / "online" / name).worker_count()
    assert workers == int(document["environment_variables"]["WORKER_COUNT"]) > 1
    assert document["request_settings"]["max_concurrent_requests_per_instance"] == workers


@pytest.mark.parametrize(("declared", "cores", "expected"), [(4, 2, 2), (4, 8, 4), (1, 2, 1), (3, 3, 3)])
def test_locally_the_workers_are_capped_at_the_cores(declared, cores, expected) -> None:
    assert local_worker_count(declared, cores) == expected


def deployment_with(variables: dict[str, str], tmp_path) -> Deployment:
    loaded = Deployment.from_yaml(ENDPOINTS / "online" / "blue.yml")
    return Deployment(
        loaded.name, loaded.endpoint, loaded.code_dir, loaded.scoring_script, variables, tmp_path / "d.yml"
    )


def test_without_worker_count_the_servers_default_applies(tmp_path) -> None:
    assert deployment_with({}, tmp_path).worker_count() == DEFAULT_WORKER_COUNT == 1


@pytest.mark.parametrize("value", ["0", "-2", "four", "2.5"])
def test_a_bad_worker_count_is_refused_naming_the_file_and_field(tmp_path, value) -> None:
    with pytest.raises(MlopsError, match=rf"d\.yml: environment_variables\.WORKER_COUNT: .*got '{value}'"):
        deployment_with({"WORKER_COUNT": value}, tmp_path).worker_count()
