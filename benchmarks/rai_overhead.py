"""Benchmark what the Responsible AI step adds to a first run of the training pipeline on the sample data.

Runs pipelines/train.yml in a fresh state folder (nothing reused) and compares the `rai` step's wall time with the
rest of the same run: the ratio is what the step adds (target <= 0.25). Median of --repeat runs.

    .venv/bin/python benchmarks/rai_overhead.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(state: Path) -> tuple[float, float]:
    """(whole first run, the rai step) in seconds."""
    from mlops.targets.local.jobs import submit

    os.environ["MLOPS_HOME"] = str(state)
    os.environ["MLOPS_PROJECT_ROOT"] = str(REPO)
    started = time.perf_counter()
    run = submit(REPO / "pipelines" / "train.yml", [], echo=lambda _line: None)
    return time.perf_counter() - started, run.steps["rai"].seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ratios, totals, steps = [], [], []
    for index in range(args.repeat):
        with tempfile.TemporaryDirectory() as state:
            total, rai = one_run(Path(state))
        totals.append(total)
        steps.append(rai)
        ratios.append(rai / (total - rai))
        print(
            f"run {index + 1}: first run {total:.1f} s, of which the rai step {rai:.1f} s ({ratios[-1]:.2f}x the rest)"
        )
    print(
        f"rai step adds {statistics.median(ratios):.2f}x to a first pipeline run (median of {args.repeat}; "
        f"target <= 0.25); first run {statistics.median(totals):.1f} s, rai {statistics.median(steps):.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
