"""Differential privacy, the exam pattern: release the mean of one column of the training data under a privacy
budget epsilon, with OpenDP's Laplace mechanism, and show the accuracy/privacy trade-off over several epsilons.

The mean of n values clamped to [lower, upper] (and resized to n) changes by at most (upper - lower) / n when one
person's row is added or removed, so Laplace noise of scale (upper - lower) / (n * epsilon) makes the release
epsilon-differentially private. OpenDP builds the whole chain (clamp, resize to n, mean, noise) and its privacy
map reports the epsilon the chain spends for one row added or removed, so the scale is checked, not assumed.

    .venv/bin/python examples/differential-privacy/dp_release.py --column bmi --lower 15 --upper 50
    .venv/bin/python examples/differential-privacy/dp_release.py --column age --lower 21 --upper 80 --epsilon 0.1

Writes release.json (the true and released means, the scale, epsilon) and tradeoff.png (the mean absolute error
of the release against epsilon, measured over repeated releases, beside the mechanism's expected error, its scale).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "data" / "diabetes-training" / "diabetes.csv"
EPSILONS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def laplace_scale(lower: float, upper: float, rows: int, epsilon: float) -> float:
    """The noise scale that makes a bounded mean of `rows` values epsilon-DP: sensitivity / epsilon."""
    if not upper > lower or rows < 1 or not epsilon > 0:
        raise ValueError("expected lower < upper, rows >= 1 and epsilon > 0")
    return (upper - lower) / rows / epsilon


def mean_release(lower: float, upper: float, rows: int, epsilon: float):
    """OpenDP's chain: clamp to [lower, upper], resize to `rows` (filling with the midpoint), mean, Laplace noise."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    return (
        space
        >> dp.t.then_clamp(bounds=(float(lower), float(upper)))
        >> dp.t.then_resize(size=rows, constant=(lower + upper) / 2.0)
        >> dp.t.then_mean()
        >> dp.m.then_laplace(scale=laplace_scale(lower, upper, rows, epsilon))
    )


def column_values(path: Path, column: str) -> list[float]:
    frame = pd.read_csv(path)
    if column not in frame.columns:
        raise SystemExit(f"error: --column: '{column}' is not a column of {path}; columns: {', '.join(frame.columns)}")
    values = pd.to_numeric(frame[column], errors="coerce").dropna()
    if values.empty:
        raise SystemExit(f"error: --column: '{column}' has no numeric values in {path}")
    return values.astype(float).tolist()


def tradeoff(values: list[float], lower: float, upper: float, repeats: int) -> list[dict[str, float]]:
    """For each epsilon: the mean absolute error of `repeats` releases against the true clamped mean."""
    truth = float(np.mean(np.clip(values, lower, upper)))
    rows = []
    for epsilon in EPSILONS:
        release = mean_release(lower, upper, len(values), epsilon)
        errors = [abs(release(values) - truth) for _ in range(repeats)]
        rows.append(
            {
                "epsilon": epsilon,
                "mean_abs_error": float(np.mean(errors)),
                "scale": laplace_scale(lower, upper, len(values), epsilon),
            }
        )
    return rows


def plot(rows: list[dict[str, float]], column: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(6, 4))
    epsilons = [row["epsilon"] for row in rows]
    axis.loglog(epsilons, [row["mean_abs_error"] for row in rows], "o-", label="measured error")
    axis.loglog(epsilons, [row["scale"] for row in rows], "--", label="expected error (the Laplace scale)")
    axis.set_xlabel("epsilon (privacy budget; smaller is more private)")
    axis.set_ylabel(f"mean absolute error of the {column} mean")
    axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a CSV file (default: the sample training data)")
    parser.add_argument("--column", default="bmi")
    parser.add_argument("--lower", type=float, default=15.0, help="clamp bound: part of the privacy guarantee")
    parser.add_argument("--upper", type=float, default=50.0)
    parser.add_argument("--epsilon", type=float, default=1.0, help="the budget of the one release")
    parser.add_argument("--repeats", type=int, default=200, help="releases per epsilon for the trade-off plot")
    parser.add_argument("--out", type=Path, default=Path(".mlops") / "differential-privacy")
    args = parser.parse_args(argv)
    if not args.upper > args.lower or args.epsilon <= 0 or args.repeats < 1:
        parser.error("expected --lower < --upper, --epsilon > 0 and --repeats >= 1")
    values = column_values(args.data, args.column)
    release = mean_release(args.lower, args.upper, len(values), args.epsilon)
    spent = release.map(1)  # OpenDP's privacy map: the epsilon spent when one row is added or removed
    result = {
        "column": args.column,
        "rows": len(values),
        "bounds": [args.lower, args.upper],
        "epsilon": args.epsilon,
        "epsilon_spent_one_row_added_or_removed": float(spent),
        "laplace_scale": laplace_scale(args.lower, args.upper, len(values), args.epsilon),
        "true_mean": float(np.mean(np.clip(values, args.lower, args.upper))),
        "released_mean": float(release(values)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    rows = tradeoff(values, args.lower, args.upper, args.repeats)
    (args.out / "release.json").write_text(json.dumps({**result, "tradeoff": rows}, indent=2) + "\n")
    plot(rows, args.column, args.out / "tradeoff.png")
    print(
        f"{args.column} mean: true {result['true_mean']:.4f}, released {result['released_mean']:.4f} "
        f"(epsilon {args.epsilon}, Laplace scale {result['laplace_scale']:.2e}); {args.out / 'tradeoff.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
