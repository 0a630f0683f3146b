"""Benchmark the local batch driver (the engine of `mlops batch-score`) against the predict floor, and its scaling.

(a) Ratio: the driver on 200,000 rows in 8 CSV files (the batch deployment's own settings and scoring script, the
    inputs read first as the command does, CSV output) vs the floor: a fresh process that imports mlflow, loads the
    same model, reads the same 8 files into one frame and calls `predict` and `predict_proba` over it (no checks, no
    output). Both are timed from process start to exit; rows/s ratio driver/floor, median of --repeat runs.
(b) Scaling: the driver at 10k, 100k, 1M and 10M rows (8 files each): seconds, net microseconds per row (minus the
    start-up, the driver on 8 files of 10 rows), peak RSS of the driver process and of its scoring worker. A size is
    skipped when the previous one predicts it would take longer than --budget seconds (say which). Verdict: linear
    when the net time per row at the largest size is within +-25% of the one at 100k (10k is mostly start-up).

Each run is a fresh process; the peak RSS of the driver and of its worker are their own high-water marks (VmHWM).

    .venv/bin/python benchmarks/batch_scoring.py [--rows 200000] [--repeat 3] [--sizes 10000,100000,1000000,10000000]

The model is the champion of the local state (MLOPS_HOME or .mlops, after `make run`); without one, the training
pipeline runs first in a temporary state folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaling import linearity, peak_rss_mib

REPO = Path(__file__).resolve().parents[1]
FILES = 8
DEPLOYMENT = REPO / "endpoints" / "batch" / "deployment.yml"

FLOOR = """\
import sys, glob
import mlflow, pandas as pd
folder, inputs = sys.argv[1], sys.argv[2]
model = mlflow.sklearn.load_model(folder)
features = mlflow.models.Model.load(folder).signature.inputs.input_names()
frame = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(inputs + "/*.csv"))], ignore_index=True)
model.predict(frame[features])
model.predict_proba(frame[features])
"""


def champion_dir(tmp: Path) -> Path:
    """The champion's materialised version folder (the driver's AZUREML_MODEL_DIR)."""
    from mlops.errors import MlopsError
    from mlops.project.layout import Layout
    from mlops.targets.local.jobs import submit as run_pipeline
    from mlops.targets.local.registry import materialize

    name = Layout(REPO).model().name
    try:
        model = Layout(REPO).catalog.model(name)
    except MlopsError:
        os.environ["MLOPS_HOME"] = str(tmp / "state")
        run_pipeline(REPO / "pipelines" / "train.yml", [], echo=lambda _: None)
        model = Layout(REPO).catalog.model(name)
    return materialize(Layout(REPO).state.ensure(), model)


def write_inputs(folder: Path, rows: int) -> Path:
    """`rows` rows of data/production/baseline.csv repeated, unique patient ids, split round-robin into CSV files
    (written as text: pandas' to_csv would take longer than scoring the larger sizes)."""
    lines = (REPO / "data" / "production" / "baseline.csv").read_text().splitlines()
    header, body = lines[0], [line.split(",", 1)[1] for line in lines[1:]]
    folder.mkdir(parents=True)
    for index in range(FILES):
        with (folder / f"part-{index}.csv").open("w") as handle:
            handle.write(header + "\n")
            ids = range(index, rows, FILES)
            for start in range(0, len(ids), 100_000):
                handle.writelines(f"{i},{body[i % len(body)]}\n" for i in ids[start : start + 100_000])
    return folder


def run_driver(model_dir: Path, inputs: Path, out: Path) -> dict:
    """The driver in a fresh process, as `mlops batch-score` runs it."""
    command = [sys.executable, __file__, "--driver-process", str(model_dir), str(inputs), str(out)]
    with timed() as times:
        process = subprocess.run(command, capture_output=True, text=True, check=False)
    if process.returncode != 0:
        raise SystemExit(f"the driver failed:\n{process.stderr[-2000:]}")
    return {**times, **json.loads(process.stdout.strip().splitlines()[-1])}


@contextlib.contextmanager
def timed():
    """Wall seconds and the CPU seconds (user + system) of the child processes that ran meanwhile: on a shared
    machine the CPU time is the steadier measure of the work done."""
    times: dict[str, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    yield times
    times["seconds"] = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    times["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def driver_process(model_dir: Path, inputs: Path, out: Path) -> None:
    import threading

    import psutil

    from mlops.targets.local import batch

    worker_peaks: dict[int, float] = {}
    done = threading.Event()

    def watch_workers() -> None:  # the worker's high-water mark, read while it lives
        while not done.wait(0.1):
            for child in psutil.Process().children(recursive=True):
                worker_peaks[child.pid] = max(worker_peaks.get(child.pid, 0.0), peak_rss_mib(child.pid))

    watcher = threading.Thread(target=watch_workers, daemon=True)
    watcher.start()
    settings = batch.BatchSettings.from_yaml(DEPLOYMENT)
    columns = batch.scoring_columns(model_dir, settings)
    summary = batch.invoke(settings, model_dir, inputs, out, out / "worker.log", echo=lambda _: None, columns=columns)
    done.set()
    watcher.join()
    worker = max(worker_peaks.values(), default=float("nan"))
    print(json.dumps({"rows": summary.rows, "driver_mib": peak_rss_mib("self"), "worker_mib": worker}))


def run_floor(model_dir: Path, inputs: Path) -> dict:
    folder = next(model_dir.rglob("MLmodel")).parent
    with timed() as times:
        subprocess.run([sys.executable, "-c", FLOOR, str(folder), str(inputs)], check=True)
    return times


def ratio(model_dir: Path, tmp: Path, rows: int, repeat: int) -> None:
    inputs = write_inputs(tmp / "ratio-inputs", rows)
    driver, floor = [], []
    for attempt in range(repeat):  # alternate, so both see the same machine load
        driver.append(run_driver(model_dir, inputs, tmp / f"ratio-out-{attempt}"))
        floor.append(run_floor(model_dir, inputs))
    print(f"\n(a) {rows:,} rows in {FILES} CSV file(s), {repeat} run(s) each, fresh processes")
    for name, runs in (("driver (checks, worker, CSV output)", driver), ("floor (load, read, predict + proba)", floor)):
        wall = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        cpu = ", ".join(f"{r['cpu']:.2f}" for r in runs)
        print(f"    {name:<38} wall s {wall};  CPU s {cpu}")
    for measure in ("seconds", "cpu"):
        ratios = sorted(f[measure] / d[measure] for d, f in zip(driver, floor, strict=True))
        print(
            f"    rows/s driver/floor by {'wall' if measure == 'seconds' else 'CPU'} time: median "
            f"{statistics.median(ratios):.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)})"
        )


def scaling(model_dir: Path, tmp: Path, sizes: list[int], budget: float) -> None:
    startup = run_driver(model_dir, write_inputs(tmp / "startup-inputs", 10 * FILES), tmp / "startup-out")
    print(f"\n(b) scaling, {FILES} CSV file(s) per size; start-up ({FILES} file(s) of 10 rows): ", end="")
    print(f"{startup['seconds']:.2f} s wall, {startup['cpu']:.2f} s CPU")
    print(f"    {'rows':>12}{'wall s':>9}{'CPU s':>9}{'rows/s':>10}{'net CPU us/row':>16}{'driver MiB':>12}", end="")
    print(f"{'worker MiB':>12}")
    measured: dict[int, float] = {}
    previous: dict | None = None
    for rows in sizes:
        if previous:
            predicted = startup["seconds"] + (previous["seconds"] - startup["seconds"]) * rows / previous["rows"]
            if predicted > budget:
                print(f"    {rows:>12,}  skipped: about {predicted:.0f} s predicted from the last size", end="")
                print(f" (more than --budget {budget:g})")
                continue
        inputs = write_inputs(tmp / f"scale-{rows}", rows)
        result = run_driver(model_dir, inputs, tmp / f"scale-out-{rows}")
        for stale in (inputs, tmp / f"scale-out-{rows}"):
            shutil.rmtree(stale)
        measured[rows] = max(result["cpu"] - startup["cpu"], 0.0) / rows * 1e6
        previous = result
        print(
            f"    {rows:>12,}{result['seconds']:>9.2f}{result['cpu']:>9.2f}{rows / result['seconds']:>10.0f}"
            f"{measured[rows]:>16.2f}{result['driver_mib']:>12.0f}{result['worker_mib']:>12.0f}"
        )
    print("    " + linearity(measured, "net CPU time per row"))


def main() -> int:
    global FILES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds one size may take (predicted)")
    parser.add_argument("--files", type=int, default=FILES, help="CSV files per input (one mini batch each)")
    parser.add_argument("--no-ratio", action="store_true")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--driver-process", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("MLOPS_PROJECT_ROOT", str(REPO))
    FILES = args.files
    if args.driver_process:
        driver_process(*args.driver_process)
        return 0
    with tempfile.TemporaryDirectory(prefix="mlops-batch-bench-") as folder:
        tmp = Path(folder)
        model_dir = champion_dir(tmp)
        if not args.no_ratio:
            ratio(model_dir, tmp, args.rows, args.repeat)
        if not args.no_scaling:
            scaling(model_dir, tmp, [int(s) for s in args.sizes.split(",")], args.budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
