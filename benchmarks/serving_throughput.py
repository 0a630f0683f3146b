"""Benchmark the local endpoints against named baselines measured in the same run.

(a) Online: the local endpoint (Azure ML inference server + endpoints/online/score.py) vs `mlflow models serve` on
    the same model files, same rows, same client (N requests at concurrency C, new connection per request):
    throughput and p50/p99 latency, ratios local / mlflow.
(b) Batch: the local batch driver (endpoints/batch/score.py in a worker, mini batches, CSV output) vs one
    `predict` + `predict_proba` over the whole frame in this process: rows per second, ratio driver / direct.

    .venv/bin/python benchmarks/serving_throughput.py [--requests 2000] [--concurrency 8] [--batch-rows 200000]

The model is the champion of the local state (.mlops, after `make run`); without one, the training pipeline runs
first in a temporary state folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def timed_requests(url: str, body: bytes, requests: int, concurrency: int) -> tuple[float, list[float], int]:
    def one(_index: int) -> tuple[float, bool]:
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                ok = response.status == 200
                response.read()
        except OSError:
            ok = False
        return time.perf_counter() - started, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    return wall, [seconds for seconds, _ in results], sum(1 for _, ok in results if not ok)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


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


def online(state, model, requests: int, concurrency: int, tmp: Path) -> None:
    from mlops.project.layout import Layout
    from mlops.targets.local import online as local_online
    from mlops.targets.local.loop import free_port
    from mlops.targets.local.registry import materialize

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

    rows = []
    with local_online.deploy(Layout(REPO, state.root).for_model(), model, free_port()) as server:
        rows.append(
            (
                "local endpoint (azmlinfsrv + score.py)",
                *timed_requests(server.url + "/score", json.dumps(body).encode(), requests, concurrency),
            )
        )
    port = free_port()
    process = start_mlflow_serve(model_dir, port, tmp / "mlflow-serve.log")
    try:
        rows.append(
            (
                "baseline: mlflow models serve",
                *timed_requests(
                    f"http://127.0.0.1:{port}/invocations", json.dumps(mlflow_body).encode(), requests, concurrency
                ),
            )
        )
    finally:
        stop(process)

    print(f"\nonline: {requests} requests of {len(data['data'])} rows at concurrency {concurrency}, model {model}")
    print(f"{'server':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, wall, latencies, errors in rows:
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        print(f"{name:<40}{requests / wall:>9.1f}{p50:>9.1f}{p99:>9.1f}{errors:>8}")
    (_, wall_a, lat_a, _), (_, wall_b, lat_b, _) = rows
    p50_ratio = percentile(lat_a, 50) / percentile(lat_b, 50)
    p99_ratio = percentile(lat_a, 99) / percentile(lat_b, 99)
    throughput_ratio = wall_b / wall_a
    print(f"ratios local/mlflow: throughput {throughput_ratio:.2f}, p50 latency {p50_ratio:.2f}, p99 {p99_ratio:.2f}")


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
    parser.add_argument("--batch-rows", type=int, default=200_000)
    args = parser.parse_args()
    os.environ["MLOPS_PROJECT_ROOT"] = str(REPO)
    with tempfile.TemporaryDirectory(prefix="mlops-serving-bench-") as tmp:
        state, model = champion(Path(tmp))
        online(state, model, args.requests, args.concurrency, Path(tmp))
        batch_rows(state, model, args.batch_rows, Path(tmp))


if __name__ == "__main__":
    main()
