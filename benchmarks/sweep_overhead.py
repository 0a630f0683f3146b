"""Benchmark the local sweep engine against running the same trial commands by hand, two at a time.

A sweep of 8 trials with `max_concurrent_trials: 2` (tests/fixtures/jobs/sweep-job.yml: each trial imports
MLflow, logs one metric and writes one file), against the 8 rendered trial commands run by hand in pairs (the same
code, MLflow store type and outputs, no engine). Prints the ratio; the target is <= 1.15.

    .venv/bin/python benchmarks/sweep_overhead.py [--repeat 3] [--trials 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOBS = REPO / "tests" / "fixtures" / "jobs"


def run_sweep(folder: Path, trials: int) -> tuple[float, Path]:
    from mlops.targets.local.jobs import submit

    os.environ["MLOPS_HOME"] = str(folder / "state")
    overrides = [f"limits.max_total_trials={trials}", "limits.max_concurrent_trials=2"]
    started = time.perf_counter()
    run = submit(folder / "jobs" / "sweep-job.yml", overrides, echo=lambda _line: None)
    return time.perf_counter() - started, run.run_dir / "sweep_job"


def run_by_hand(sweep_dir: Path, folder: Path) -> float:
    """The sweep's rendered trial commands, two at a time, each with a fresh copy of its code and output folder."""
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'state' / 'mlflow.db'}",
        MLFLOW_EXPERIMENT_NAME="by-hand",
    )
    from mlflow.tracking import MlflowClient

    # created once up front: two trials starting together would both try to create it
    MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"]).create_experiment("by-hand")
    commands = []
    for trial in summary["trials"]:
        source = sweep_dir / "trials" / f"{trial['trial']:03d}"
        target = folder / "by-hand" / source.name
        shutil.copytree(source / "code", target / "code")
        command = (source / "command.txt").read_text().replace(str(source), str(target))
        commands.append((command, target / "code"))
    started = time.perf_counter()
    for first in range(0, len(commands), 2):
        pair = [
            subprocess.Popen(["/bin/bash", "-c", c], cwd=cwd, env=env, stdout=subprocess.DEVNULL)
            for c, cwd in commands[first : first + 2]
        ]
        for process in pair:
            if process.wait() != 0:
                raise SystemExit("a trial command failed when run by hand")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    engine, by_hand = [], []
    with tempfile.TemporaryDirectory(prefix="mlops-sweep-bench-") as tmp:
        for index in range(args.repeat):
            folder = Path(tmp) / f"round-{index}"
            shutil.copytree(JOBS, folder / "jobs")
            seconds, sweep_dir = run_sweep(folder, args.trials)
            engine.append(seconds)
            by_hand.append(run_by_hand(sweep_dir, folder))
            print(f"round {index + 1}: engine {engine[-1]:.1f}s, by hand {by_hand[-1]:.1f}s")
    median = statistics.median
    ratio = median(engine) / median(by_hand)
    print()
    print(f"sweep: {args.trials} trials, 2 at a time, {args.repeat} rounds, medians")
    print(f"{'measure':<44}{'seconds':>10}{'ratio':>10}")
    print(f"{'baseline: trial commands by hand, in pairs':<44}{median(by_hand):>10.2f}{1:>10.2f}")
    print(f"{'sweep engine (target <= 1.15)':<44}{median(engine):>10.2f}{ratio:>10.2f}")


if __name__ == "__main__":
    main()
