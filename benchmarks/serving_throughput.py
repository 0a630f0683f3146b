"""Benchmark the local endpoints against named baselines measured in the same run.

(a) Online, three servers on the same model files, same rows, same client (N requests at concurrency C, a new
    connection per request), `--repeat` rounds, medians reported; within a round the servers take turns, a tenth
    of the requests at a time, so that each sees the same background load:
    - the local endpoint: azmlinfsrv + endpoints/online/score.py, with the live deployment's WORKER_COUNT (at most
      one worker per core here), as `mlops serve` runs it;
    - baseline "bare": the same server, workers and model with a predict-only score.py (written to a temporary
      folder: parse the JSON, predict, answer), so the difference is what score.py itself costs;
    - baseline `mlflow models serve` (its default: one uvicorn worker).
    Per server: throughput, p50/p99 latency, and the server's CPU milliseconds per request (its process group's
    user + system time, /proc), which a loaded machine skews less than wall-clock figures. Ratios: local / mlflow
    (throughput, p99, CPU per request) and local / bare (p50, p99, CPU per request).
(b) Batch: the local batch driver (endpoints/batch/score.py in a worker, mini batches, CSV output) vs one
    `predict` + `predict_proba` over the whole frame in this process: rows per second, ratio driver / direct.

    .venv/bin/python benchmarks/serving_throughput.py [--requests 2000] [--concurrency 8] [--repeat 3]
        [--batch-rows 200000] [--skip-batch]

The model is the champion of the local state (.mlops, or MLOPS_HOME; after `make run`); without one, the training
pipeline runs first in a temporary state folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]


def champion(tmp: Path):
    from mlops.errors import MlopsError
    from mlops.project.layout import Layout
    from mlops.targets.local.jobs import submit as run_pipeline

    state = Layout(REPO).state.ensure()
    name = Layout(REPO).model().name
    try:
        return state, Layout(REPO).catalog.model(name)
    except MlopsError:
        os.environ["MLOPS_HOME"] = str(tmp / "state")
        state = Layout(REPO).state.ensure()
        run_pipeline(REPO / "pipelines" / "train.yml", [], echo=lambda _: None)
        return state, Layout(REPO).catalog.model(name)


# The predict-only scoring script of the "bare" baseline: what any score.py must do at least.
BARE_SCORE = """\
import json
import os
from pathlib import Path

import mlflow
import pandas as pd
from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    global model, features
    folder = next(Path(os.environ["AZUREML_MODEL_DIR"]).rglob("MLmodel")).parent
    model = mlflow.sklearn.load_model(str(folder))
    features = mlflow.models.Model.load(str(folder)).signature.inputs.input_names()


@rawhttp
def run(request):
    data = json.loads(request.get_data())["input_data"]
    frame = pd.DataFrame(data["data"], columns=data["columns"])[features]
    body = json.dumps({"predictions": model.predict(frame).tolist()})
    return AMLResponse(body, 200, {"Content-Type": "application/json"})
"""
READY = "ready for serving traffic"  # azmlinfsrv's log line when a worker has run init()
SLICES = 10  # a round's requests per server, in slices taken in turn with the other servers'


@dataclass
class Load:
    """One load test of one server."""

    wall: float
    latencies: list[float]
    errors: int
    server_cpu: float  # seconds of the server's process group
    client_cpu: float  # seconds of this process (the client threads)

    def throughput(self) -> float:
        return len(self.latencies) / self.wall

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def cpu_ms(self) -> float:
        return self.server_cpu / len(self.latencies) * 1000

    def __add__(self, other: Load) -> Load:
        return Load(
            self.wall + other.wall,
            self.latencies + other.latencies,
            self.errors + other.errors,
            self.server_cpu + other.server_cpu,
            self.client_cpu + other.client_cpu,
        )


def timed_requests(url: str, body: bytes, requests: int, concurrency: int, group: int) -> Load:
    def one(_index: int) -> tuple[float, bool]:
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                ok = response.status == 200
                response.read()
        except OSError:
            ok = False
        return time.perf_counter() - started, ok

    cpu, client = group_cpu_seconds(group), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    server_cpu, client_cpu = group_cpu_seconds(group) - cpu, time.process_time() - client
    errors = sum(1 for _, ok in results if not ok)
    return Load(wall, [seconds for seconds, _ in results], errors, server_cpu, client_cpu)


def group_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of the live processes of a process group (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_mlflow_serve(model_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"mlflow models serve exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"mlflow models serve did not start; see {log}")


def stop(process: subprocess.Popen) -> None:
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def bare_deployment(live: Path, folder: Path) -> Path:
    """The live deployment YAML (its variables: the same workers) with the predict-only script as its code."""
    import yaml

    folder.mkdir()
    (folder / "score.py").write_text(BARE_SCORE)
    document = yaml.safe_load(live.read_text())
    document["name"] = "bare"
    document["code_configuration"] = {"code": ".", "scoring_script": "score.py"}
    (folder / "bare.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder / "bare.yml"


def wait_for_workers(server, timeout: float = 120) -> None:
    """Until every worker has run init() (the health check answers as soon as the first one has)."""
    deadline = time.monotonic() + timeout
    while server.log.read_text(errors="replace").count(READY) < server.workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"{server.workers} workers not ready within {timeout}s; see {server.log}")
        time.sleep(0.5)


def online(state, model, requests: int, concurrency: int, repeat: int, tmp: Path) -> None:
    from mlops.project.layout import Layout
    from mlops.targets.local import online as local_online
    from mlops.targets.local.loop import free_port
    from mlops.targets.local.registry import materialize

    layout = Layout(REPO, state.root).for_model()
    body = json.loads((REPO / "endpoints" / "online" / "sample-request.json").read_text())
    data = body["input_data"]
    keep = [i for i, c in enumerate(data["columns"]) if c != "patient_id"]
    mlflow_body = {
        "dataframe_split": {
            "columns": [data["columns"][i] for i in keep],
            "data": [[r[i] for i in keep] for r in data["data"]],
        }
    }
    model_dir = next(materialize(state, model).rglob("MLmodel")).parent
    names = ("local endpoint (azmlinfsrv + score.py)", "baseline: bare predict-only score.py", "baseline: mlflow serve")
    loads: dict[str, list[Load]] = {name: [] for name in names}
    with contextlib.ExitStack() as servers:
        local = servers.enter_context(local_online.deploy(layout, model, free_port()))
        bare_yaml = bare_deployment(layout.live_deployment, tmp / "bare")
        bare = servers.enter_context(local_online.deploy(layout, model, free_port(), bare_yaml))
        port = free_port()
        process = start_mlflow_serve(model_dir, port, tmp / "mlflow-serve.log")
        servers.callback(stop, process)
        for server in (local, bare):
            wait_for_workers(server)
        targets = {
            names[0]: (local.url + "/score", json.dumps(body).encode(), local.pid),
            names[1]: (bare.url + "/score", json.dumps(body).encode(), bare.pid),
            names[2]: (f"http://127.0.0.1:{port}/invocations", json.dumps(mlflow_body).encode(), process.pid),
        }
        for url, payload, group in targets.values():  # warm-up, not measured
            timed_requests(url, payload, 4 * concurrency, concurrency, group)
        for _ in range(repeat):  # in slices taken in turn, so each server sees the same background load
            slices: dict[str, list[Load]] = {name: [] for name in names}
            for _ in range(SLICES):
                for name, (url, payload, group) in targets.items():
                    slices[name].append(timed_requests(url, payload, requests // SLICES, concurrency, group))
            for name, taken in slices.items():
                loads[name].append(sum(taken[1:], taken[0]))

    print(
        f"\nonline: {requests} requests of {len(data['data'])} rows at concurrency {concurrency}, model {model}; "
        f"local and bare: {local.workers} worker(s) (WORKER_COUNT, at most the cores here), mlflow: 1 worker; "
        f"{repeat} round(s), each value the median"
    )
    print(
        f"{'server':<42}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/req':>11}{'client CPU ms/req':>18}{'errors':>7}"
    )
    for name in names:
        runs = loads[name]
        client = median(r.client_cpu / len(r.latencies) * 1000 for r in runs)
        figures = (
            f"{median(r.throughput() for r in runs):>8.1f}{median(r.p(50) for r in runs) * 1000:>8.1f}"
            f"{median(r.p(99) for r in runs) * 1000:>8.1f}{median(r.cpu_ms() for r in runs):>11.2f}"
        )
        print(f"{name:<42}{figures}{client:>18.2f}{sum(r.errors for r in runs):>7}")
    rounds = list(zip(*(loads[name] for name in names), strict=True))
    ratios = {
        "local/mlflow throughput": [a.throughput() / c.throughput() for a, _, c in rounds],
        "local/mlflow p99 latency": [a.p(99) / c.p(99) for a, _, c in rounds],
        "local/mlflow CPU per request": [a.cpu_ms() / c.cpu_ms() for a, _, c in rounds],
        "local/bare p50 latency": [a.p(50) / b.p(50) for a, b, _ in rounds],
        "local/bare p99 latency": [a.p(99) / b.p(99) for a, b, _ in rounds],
        "local/bare CPU per request": [a.cpu_ms() / b.cpu_ms() for a, b, _ in rounds],
    }
    for label, values in ratios.items():
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"ratio {label:<28} median {median(values):.2f}  (rounds: {each})")


def batch_rows(state, model, rows: int, tmp: Path) -> None:
    import mlflow
    import pandas as pd

    from mlops.targets.local import batch
    from mlops.targets.local.registry import materialize

    source = pd.read_csv(REPO / "data" / "production" / "baseline.csv")
    big = pd.concat([source] * (rows // len(source) + 1), ignore_index=True).iloc[:rows]
    big["patient_id"] = range(len(big))
    inputs = tmp / "batch-inputs"
    inputs.mkdir()
    files = 8
    for index in range(files):
        big.iloc[index::files].to_csv(inputs / f"part-{index}.csv", index=False)
    version_dir = materialize(state, model)
    settings = batch.BatchSettings.from_yaml(REPO / "endpoints" / "batch" / "deployment.yml")

    started = time.perf_counter()
    batch.invoke(settings, version_dir, inputs, tmp / "batch-out", tmp / "batch.log", echo=lambda _: None)
    driver = time.perf_counter() - started

    folder = next(version_dir.rglob("MLmodel")).parent
    started = time.perf_counter()
    frame = pd.concat([pd.read_csv(f) for f in sorted(inputs.iterdir())], ignore_index=True)
    loaded = mlflow.sklearn.load_model(str(folder))
    features = mlflow.models.Model.load(str(folder)).signature.inputs.input_names()
    loaded.predict(frame[features])
    loaded.predict_proba(frame[features])
    direct = time.perf_counter() - started

    print(f"\nbatch: {rows} rows in {files} files (mini_batch_size {settings.mini_batch_size})")
    print(f"{'path':<52}{'seconds':>9}{'rows/s':>11}")
    print(f"{'local batch driver (worker, retries, CSV output)':<52}{driver:>9.2f}{rows / driver:>11.0f}")
    print(f"{'baseline: load + one predict over the whole frame':<52}{direct:>9.2f}{rows / direct:>11.0f}")
    print(f"ratio driver/direct rows per second: {direct / driver:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the online load tests (medians printed)")
    parser.add_argument("--batch-rows", type=int, default=200_000)
    parser.add_argument("--skip-batch", action="store_true", help="only the online benchmark")
    args = parser.parse_args()
    os.environ["MLOPS_PROJECT_ROOT"] = str(REPO)
    with tempfile.TemporaryDirectory(prefix="mlops-serving-bench-") as tmp:
        state, model = champion(Path(tmp))
        online(state, model, args.requests, args.concurrency, args.repeat, Path(tmp))
        if not args.skip_batch:
            batch_rows(state, model, args.batch_rows, Path(tmp))


if __name__ == "__main__":
    main()
