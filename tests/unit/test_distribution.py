"""`distribution` + `resources.instance_count` as processes with the variables Azure ML sets
(mlops.project.distribution)."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import pytest

from mlops.errors import MlopsError
from mlops.project.distribution import MAX_LOCAL_PROCESSES, Distribution


def entity(instances=None, **distribution):
    resources = SimpleNamespace(instance_count=instances) if instances is not None else None
    return SimpleNamespace(distribution=SimpleNamespace(**distribution) if distribution else None, resources=resources)


def ports():
    counter = itertools.count(7000)
    return lambda: next(counter)


def test_no_distribution_is_one_process() -> None:
    assert Distribution.of(entity(1), "") is None
    assert Distribution.of(entity(None), "") is None
    with pytest.raises(MlopsError, match=r"x\.resources\.instance_count: 2 without a distribution"):
        Distribution.of(entity(2), "x.")


def test_pytorch_ranks_nodes_and_local_ranks() -> None:
    plan = Distribution.of(entity(3, type="pytorch", process_count_per_instance=2), "")
    processes = plan.processes(ports())
    assert [p.environment["RANK"] for p in processes] == ["0", "1", "2", "3", "4", "5"]
    assert [p.environment["NODE_RANK"] for p in processes] == ["0", "0", "1", "1", "2", "2"]
    assert [p.environment["LOCAL_RANK"] for p in processes] == ["0", "1"] * 3
    assert {p.environment["WORLD_SIZE"] for p in processes} == {"6"}
    assert {(p.environment["MASTER_ADDR"], p.environment["MASTER_PORT"]) for p in processes} == {("127.0.0.1", "7000")}
    assert [p.log_name for p in processes][-1] == "std_log_process_5.txt"


def test_pytorch_defaults_to_one_process_per_instance() -> None:
    assert Distribution.of(entity(2, type="pytorch", process_count_per_instance=None), "").size == 2


def test_tensorflow_workers_default_to_the_instance_count() -> None:
    plan = Distribution.of(entity(3, type="tensorflow", worker_count=None, parameter_server_count=0), "")
    configs = [json.loads(p.environment["TF_CONFIG"]) for p in plan.processes(ports())]
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]
    assert configs[0]["cluster"] == {"worker": ["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]}


def test_tensorflow_parameter_servers() -> None:
    plan = Distribution.of(entity(1, type="tensorflow", worker_count=2, parameter_server_count=2), "")
    configs = [json.loads(p.environment["TF_CONFIG"]) for p in plan.processes(ports())]
    assert [(c["task"]["type"], c["task"]["index"]) for c in configs] == [
        ("worker", 0),
        ("worker", 1),
        ("ps", 0),
        ("ps", 1),
    ]
    assert configs[3]["cluster"]["ps"] == ["127.0.0.1:7002", "127.0.0.1:7003"]


def test_mpi_ranks() -> None:
    plan = Distribution.of(entity(2, type="mpi", process_count_per_instance=2), "")
    variables = [p.environment for p in plan.processes(ports())]
    assert [v["OMPI_COMM_WORLD_RANK"] for v in variables] == ["0", "1", "2", "3"]
    assert [v["OMPI_COMM_WORLD_LOCAL_RANK"] for v in variables] == ["0", "1", "0", "1"]
    assert {v["OMPI_COMM_WORLD_LOCAL_SIZE"] for v in variables} == {"2"}
    assert {v["AZ_BATCH_MASTER_NODE"] for v in variables} == {"127.0.0.1:7000"}


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (entity(1, type="mpi", process_count_per_instance=None), "x.distribution.process_count_per_instance: required"),
        (entity(0, type="pytorch"), "x.resources.instance_count: expected a whole number >= 1, got 0"),
        (entity(1, type="pytorch", process_count_per_instance=0), "process_count_per_instance: expected a whole"),
        (entity(1, type="ray"), "x.distribution.type: ray; the local target runs pytorch, tensorflow, mpi"),
        (entity(MAX_LOCAL_PROCESSES + 1, type="pytorch"), f"{MAX_LOCAL_PROCESSES + 1} processes; the local target"),
    ],
)
def test_what_cannot_run_locally_is_refused_naming_the_field(job, message) -> None:
    with pytest.raises(MlopsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Distribution.of(job, "x.")
