"""A command's `distribution` and `resources.instance_count` as local processes, with the variables Azure ML sets.

Azure ML starts, for a command job or step with `distribution` on `instance_count` nodes:

- `pytorch`: `process_count_per_instance` processes per node (default 1); each gets MASTER_ADDR, MASTER_PORT,
  WORLD_SIZE (all processes), NODE_RANK, RANK (global) and LOCAL_RANK (on its node);
- `tensorflow`: one process per worker (`worker_count`, default `instance_count`) and per parameter server
  (`parameter_server_count`, default 0), each with TF_CONFIG: the cluster's `worker` (and `ps`) addresses, its own
  task (`type`, `index`) and `"environment": "cloud"`;
- `mpi`: `process_count_per_instance` ranks per node (required) started by Azure's own `mpirun`; each rank sees
  OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_SIZE and
  AZ_BATCH_MASTER_NODE (`address:port`).

Locally every "node" is this machine (addresses 127.0.0.1, ports free at start-up) and every process is the step's
command in a process group of its own, so code that reads these variables (to pick a shard, to call
`torch.distributed.init_process_group`, to build a `tf.distribute` strategy) runs as on Azure. Not emulated: MPI's
own start-up (`MPI_Init` needs `mpirun`; the ranks here are plain processes) and GPUs. At most
`MAX_LOCAL_PROCESSES` processes run at once: a plan for more is refused.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops.errors import MlopsError

LOCALHOST = "127.0.0.1"
MAX_LOCAL_PROCESSES = 16
TYPES = ("pytorch", "tensorflow", "mpi")


@dataclass(frozen=True)
class Process:
    rank: int
    environment: dict[str, str]
    log_name: str  # Azure's per-process log name under user_logs/


@dataclass(frozen=True)
class Distribution:
    """What a step's `distribution` and `resources.instance_count` ask for, checked."""

    type: str
    instance_count: int = 1
    process_count_per_instance: int | None = None
    worker_count: int | None = None
    parameter_server_count: int = 0

    @classmethod
    def of(cls, entity: Any, where: str) -> Distribution | None:
        """From a loaded command job or step (`entity.distribution`, `entity.resources`); None without one. A
        distribution the local target cannot honour faithfully is an MlopsError naming the field."""
        distribution = getattr(entity, "distribution", None)
        resources = getattr(entity, "resources", None)
        instances = _count(getattr(resources, "instance_count", None), f"{where}resources.instance_count", 1)
        if distribution is None:
            if instances > 1:  # Azure would start the command on every node; here there is one node
                raise MlopsError(
                    f"{where}resources.instance_count: {instances} without a distribution; the local target runs "
                    "one node (add a distribution, or submit with --target azure)"
                )
            return None
        kind = str(getattr(distribution, "type", "")).lower()
        if kind not in TYPES:
            raise MlopsError(f"{where}distribution.type: {kind or 'missing'}; the local target runs {', '.join(TYPES)}")
        per_instance = getattr(distribution, "process_count_per_instance", None)
        if kind == "mpi" and per_instance is None:
            raise MlopsError(f"{where}distribution.process_count_per_instance: required for type mpi")
        plan = cls(
            kind,
            instances,
            _count(per_instance, f"{where}distribution.process_count_per_instance", None),
            _count(getattr(distribution, "worker_count", None), f"{where}distribution.worker_count", None),
            _count(getattr(distribution, "parameter_server_count", None) or 0, f"{where}distribution.ps", 0, low=0),
        )
        if plan.size > MAX_LOCAL_PROCESSES:
            raise MlopsError(
                f"{where}distribution: {plan.size} processes; the local target starts at most {MAX_LOCAL_PROCESSES} "
                "(lower resources.instance_count or the process counts, or submit with --target azure)"
            )
        return plan

    @property
    def per_instance(self) -> int:
        return self.process_count_per_instance or 1

    @property
    def workers(self) -> int:
        return self.worker_count if self.worker_count is not None else self.instance_count

    @property
    def size(self) -> int:
        if self.type == "tensorflow":
            return self.workers + self.parameter_server_count
        return self.instance_count * self.per_instance

    def processes(self, free_port: Callable[[], int] | None = None) -> list[Process]:
        """One Process per rank, with the variables Azure sets for it."""
        port = free_port or _free_port
        if self.type == "tensorflow":
            return self._tensorflow(port)
        master = f"{LOCALHOST}:{port()}"
        processes = []
        for rank in range(self.size):
            node, local = divmod(rank, self.per_instance)
            if self.type == "pytorch":
                host, _, master_port = master.partition(":")
                variables = {
                    "MASTER_ADDR": host,
                    "MASTER_PORT": master_port,
                    "WORLD_SIZE": str(self.size),
                    "NODE_RANK": str(node),
                    "RANK": str(rank),
                    "LOCAL_RANK": str(local),
                }
            else:
                variables = {
                    "OMPI_COMM_WORLD_RANK": str(rank),
                    "OMPI_COMM_WORLD_SIZE": str(self.size),
                    "OMPI_COMM_WORLD_LOCAL_RANK": str(local),
                    "OMPI_COMM_WORLD_LOCAL_SIZE": str(self.per_instance),
                    "AZ_BATCH_MASTER_NODE": master,
                }
            processes.append(Process(rank, variables, f"std_log_process_{rank}.txt"))
        return processes

    def _tensorflow(self, port: Callable[[], int]) -> list[Process]:
        cluster = {"worker": [f"{LOCALHOST}:{port()}" for _ in range(self.workers)]}
        if self.parameter_server_count:
            cluster["ps"] = [f"{LOCALHOST}:{port()}" for _ in range(self.parameter_server_count)]
        tasks = [("worker", i) for i in range(self.workers)] + [("ps", i) for i in range(self.parameter_server_count)]
        return [
            Process(rank, {"TF_CONFIG": json.dumps(_tf_config(cluster, kind, index))}, f"std_log_process_{rank}.txt")
            for rank, (kind, index) in enumerate(tasks)
        ]


def _tf_config(cluster: dict[str, list[str]], kind: str, index: int) -> dict[str, Any]:
    return {"cluster": cluster, "task": {"type": kind, "index": index}, "environment": "cloud"}


def _count(value: Any, where: str, default: int | None, low: int = 1) -> Any:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise MlopsError(f"{where}: expected a whole number >= {low}, got {value!r}")
    return value


def _free_port() -> int:
    """A port free on 127.0.0.1 now (the OS picks it); the processes bind it moments later."""
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]
