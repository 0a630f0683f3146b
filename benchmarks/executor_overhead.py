"""Benchmark the local executor against running the same component commands by hand.

Prints two ratios, each against a baseline measured in the same run:
  (a) executor, first run  /  the same rendered commands run by hand in sequence (bash -c, same code snapshots,
      same MLflow store type, no executor): the cost of loading the YAML, snapshots, hashing, MLflow runs, caching.
  (b) executor, cached re-run  /  executor, first run: what step reuse saves.

    .venv/bin/python benchmarks/executor_overhead.py [--repeat 3] [--pipeline pipelines/train.yml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fresh_state(base: Path, name: str) -> Path:
    """A state folder whose MLflow store already has its schema, so neither side pays the migrations."""
    from mlops.project.layout import StateDir
    from mlops.targets.local import tracking

    state = StateDir(base / name).ensure()
    tracking.client(state).search_experiments()
    return state.root


def run_executor(pipeline: Path, state: Path, force: bool) -> tuple[float, object]:
    from mlops.targets.local.jobs import submit as run_pipeline

    os.environ["MLOPS_HOME"] = str(state)
    started = time.perf_counter()
    result = run_pipeline(pipeline, [], force_rerun=force, echo=lambda _line: None)
    return time.perf_counter() - started, result


def run_by_hand(result: object, workspace: Path, tracking_db: Path) -> float:
    """Re-run the executor's rendered commands in sequence, with fresh copies of its snapshots and outputs."""
    run_dir: Path = result.run_dir  # type: ignore[attr-defined]
    hand_dir = workspace / "by-hand"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        MLFLOW_TRACKING_URI=f"sqlite:///{tracking_db}",
        MLFLOW_EXPERIMENT_NAME="by-hand",
    )
    steps = list(result.steps)  # type: ignore[attr-defined]
    commands = {}
    for step in steps:
        shutil.copytree(run_dir / step / "code", hand_dir / step / "code")
        for output in (run_dir / step / "outputs").iterdir():
            (hand_dir / step / "outputs" / output.name).mkdir(parents=True)
        commands[step] = (run_dir / step / "command.txt").read_text().replace(str(run_dir), str(hand_dir))
    started = time.perf_counter()
    for step in steps:
        subprocess.run(
            ["/bin/bash", "-c", commands[step]],
            cwd=hand_dir / step / "code",
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pipeline", type=Path, default=REPO / "pipelines" / "train.yml")
    args = parser.parse_args()
    os.environ["MLOPS_PROJECT_ROOT"] = str(REPO)

    first, cached, by_hand = [], [], []
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        for index in range(args.repeat):
            base = Path(tmp) / f"round-{index}"
            state = fresh_state(base, "state")
            seconds, result = run_executor(args.pipeline.resolve(), state, force=True)
            first.append(seconds)
            cached.append(run_executor(args.pipeline.resolve(), state, force=False)[0])
            hand_state = fresh_state(base, "hand-state")
            by_hand.append(run_by_hand(result, base, hand_state / "mlflow.db"))
            print(f"round {index + 1}: first {first[-1]:.1f}s, cached {cached[-1]:.1f}s, by hand {by_hand[-1]:.1f}s")

    median = statistics.median
    ratio_a, ratio_b = median(first) / median(by_hand), median(cached) / median(first)
    print()
    print(f"pipeline: {args.pipeline.name}, {args.repeat} rounds, medians")
    print(f"{'measure':<44}{'seconds':>10}{'ratio':>10}")
    print(f"{'baseline: same commands by hand, in sequence':<44}{median(by_hand):>10.2f}{1:>10.2f}")
    print(f"{'executor, first run (a)':<44}{median(first):>10.2f}{ratio_a:>10.2f}")
    print(f"{'executor, cached re-run (b, vs first run)':<44}{median(cached):>10.2f}{ratio_b:>10.2f}")


if __name__ == "__main__":
    main()
