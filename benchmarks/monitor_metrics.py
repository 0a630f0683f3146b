"""Benchmark: every drift and data-quality metric of the local monitor on 1,000,000 rows x 10 features.

Synthetic data (8 numerical, 2 categorical columns; reference and production 1M rows each; seeded), timed against
baselines measured in the same run:

  (a) the floor: a plain loop that calls numpy/scipy directly for each Azure metric of each column
      (np.histogram, scipy jensenshannon, wasserstein_distance, ks_2samp, chisquare; pandas value_counts);
      the values of both are compared, so the speed-up is not bought with different numbers;
  (b) evidently's default data-drift report on the same frames, when `.venv-evidently/bin/python` exists
      (evidently 0.7 needs pandas < 3, so it lives in its own throwaway venv, never in the lock):
          python3.11 -m venv .venv-evidently && .venv-evidently/bin/pip install "evidently==0.7.23" "pandas<3"

  (c) scaling: the local monitor alone at 10k, 100k, 1M and 10M rows per frame, each size in a fresh process:
      wall and CPU seconds, the frames' size, the process's RSS before the metrics and its peak; a size is skipped
      when the previous one predicts more than --budget seconds. Linear when the CPU time per row at the largest
      size is within +-25% of the one at the size before it.

Run:  .venv/bin/python benchmarks/monitor_metrics.py [--rows 1000000] [--seed 42] [--no-evidently] [--no-scaling]
      [--scaling-sizes 10000,100000,1000000,10000000] [--budget 120]
Memory: about 0.5 GiB for the two frames and the sorted copies; evidently adds about 1 GiB in its own process.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scaling import linearity, peak_rss_mib

REPO = Path(__file__).resolve().parents[1]
EVIDENTLY_PYTHON = REPO / ".venv-evidently" / "bin" / "python"
NUMERICAL = [f"num_{i}" for i in range(8)]
CATEGORICAL = ["cat_0", "cat_1"]


# ---------------------------------------------------------------------------------------------------------------
# Data (numpy + pandas only: the evidently worker runs this too, with pandas 2)


def make_frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and production frames; production drifts in some columns and has an unseen category."""
    rng = np.random.default_rng(seed)

    def numerical(shift: float, scale: float) -> dict[str, np.ndarray]:
        columns = {
            "num_0": rng.normal(100 + shift * 15, 15 * scale, rows),
            "num_1": rng.normal(0, 1, rows).round(1),  # few distinct values: many ties
            "num_2": rng.lognormal(3 + shift * 0.2, 0.5, rows),
            "num_3": rng.uniform(0, 1, rows),
            "num_4": rng.exponential(2 + shift, rows),
            "num_5": rng.integers(21, 81, rows).astype("float64"),
            "num_6": rng.gamma(2, 3 * scale, rows).round(2),
            "num_7": rng.normal(50, 10, rows),
        }
        for name in ("num_2", "num_6"):  # about 1% missing
            columns[name][rng.random(rows) < 0.01] = np.nan
        return columns

    def categorical(mix: list[float], unseen: float) -> dict[str, np.ndarray]:
        labels_0 = np.array(["low", "moderate", "high", "very high", "unknown"], dtype=object)
        labels_1 = np.array([f"region_{i:02d}" for i in range(20)] + ["region_new"], dtype=object)
        weights_1 = np.r_[np.full(20, (1 - unseen) / 20), unseen]
        cat_0 = labels_0[rng.choice(5, rows, p=mix)]
        cat_0[rng.random(rows) < 0.005] = None
        return {"cat_0": cat_0, "cat_1": labels_1[rng.choice(21, rows, p=weights_1)]}

    reference = pd.DataFrame({**numerical(0.0, 1.0), **categorical([0.3, 0.4, 0.2, 0.05, 0.05], 0.0)})
    production = pd.DataFrame({**numerical(0.3, 1.1), **categorical([0.5, 0.3, 0.1, 0.05, 0.05], 0.001)})
    # only num_0, num_2, num_4, num_6 and cat_0/cat_1 drift; keep the others from the reference distribution
    for name in ("num_1", "num_3", "num_5", "num_7"):
        production[name] = reference[name].sample(frac=1.0, random_state=seed).to_numpy()
    return reference, production


# ---------------------------------------------------------------------------------------------------------------
# (a) the floor: scipy called directly, metric by metric, column by column


def floor_metrics(reference: pd.DataFrame, production: pd.DataFrame) -> dict[tuple[str, str], float]:
    from scipy import stats
    from scipy.spatial import distance

    out: dict[tuple[str, str], float] = {}
    rows = len(production)
    for column in NUMERICAL:
        ref = reference[column].to_numpy()
        prod = production[column].to_numpy()
        ref, prod = ref[~np.isnan(ref)], prod[~np.isnan(prod)]
        k = math.ceil(math.log2(min(ref.size, prod.size)) + 1)
        edges = np.linspace(min(ref.min(), prod.min()), max(ref.max(), prod.max()), k + 1)
        ref_counts, _ = np.histogram(ref, bins=edges)
        prod_counts, _ = np.histogram(prod, bins=edges)
        p, q = (prod_counts + 1) / prod.size, (ref_counts + 1) / ref.size
        out[column, "jensen_shannon_distance"] = distance.jensenshannon(
            ref_counts / ref.size, prod_counts / prod.size, base=2
        )
        out[column, "population_stability_index"] = float(np.sum((p - q) * np.log(p / q)))
        std = max(float(np.std(ref, ddof=1)), 0.001)
        out[column, "normalized_wasserstein_distance"] = stats.wasserstein_distance(ref, prod) / std
        out[column, "two_sample_kolmogorov_smirnov_test"] = stats.ks_2samp(ref, prod).pvalue
        raw = production[column]
        out[column, "null_value_rate"] = raw.isna().sum() / rows
        out[column, "data_type_error_rate"] = 0.0 if pd.api.types.is_float_dtype(raw.dtype) else float("nan")
        out[column, "out_of_bounds_rate"] = ((prod < ref.min()) | (prod > ref.max())).sum() / rows
    for column in CATEGORICAL:
        ref_counts = reference[column].value_counts()
        prod_counts = production[column].value_counts()
        categories = ref_counts.index.union(prod_counts.index)
        rc = ref_counts.reindex(categories, fill_value=0).to_numpy()
        pc = prod_counts.reindex(categories, fill_value=0).to_numpy()
        p, q = (pc + 1) / pc.sum(), (rc + 1) / rc.sum()
        out[column, "jensen_shannon_distance"] = distance.jensenshannon(rc / rc.sum(), pc / pc.sum(), base=2)
        out[column, "population_stability_index"] = float(np.sum((p - q) * np.log(p / q)))
        baseline = np.where(rc == 0, 0.5, rc)
        out[column, "pearsons_chi_squared_test"] = stats.chisquare(pc, baseline / baseline.sum() * pc.sum()).pvalue
        raw = production[column]
        out[column, "null_value_rate"] = raw.isna().sum() / rows
        out[column, "data_type_error_rate"] = 0.0
        out[column, "out_of_bounds_rate"] = (raw.notna() & ~raw.isin(ref_counts.index)).sum() / rows
    return out


# ---------------------------------------------------------------------------------------------------------------
# The local monitor


def monitor_config(folder: Path) -> Path:
    """monitoring/monitor.yml with the benchmark's columns, its input-data signals only."""
    import yaml

    document = yaml.safe_load((REPO / "monitoring" / "monitor.yml").read_text())
    signals = document["create_monitor"]["monitoring_signals"]
    kept = {}
    for name in ("data_drift", "data_drift_tests", "data_quality"):
        signal = dict(signals[name])
        signal["features"] = NUMERICAL + CATEGORICAL
        signal.pop("feature_type_override", None)
        kept[name] = signal
    document["create_monitor"]["monitoring_signals"] = kept
    document["properties"]["mlops.retrain.signals"] = "data_drift"
    path = folder / "monitor.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def library_metrics(results) -> dict[tuple[str, str], float | None]:
    out = {}
    for signal in results:
        for feature in signal.features:
            for metric in feature.metrics:
                out[feature.feature, metric.metric] = metric.value
    return out


def compare(floor: dict, library: dict) -> float:
    worst = 0.0
    for key, expected in floor.items():
        value = library[key]
        if value is None or not math.isfinite(expected):
            raise SystemExit(f"benchmark: {key}: library {value}, floor {expected}")
        worst = max(worst, abs(value - expected) / max(abs(expected), 1e-300) if expected else abs(value))
    return worst


# ---------------------------------------------------------------------------------------------------------------
# (b) evidently, in its own venv


def evidently_worker(rows: int, seed: int) -> None:
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference, production = make_frames(rows, seed)
    start = time.perf_counter()
    Report([DataDriftPreset()]).run(current_data=production, reference_data=reference)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "version": evidently.__version__, "peak_mib": peak}))


def run_evidently(rows: int, seed: int) -> dict | str:
    if not EVIDENTLY_PYTHON.exists():
        return f"not run: {EVIDENTLY_PYTHON.relative_to(REPO)} not found (see the module docstring to create it)"
    process = subprocess.run(
        [str(EVIDENTLY_PYTHON), __file__, "--evidently-worker", "--rows", str(rows), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        last = (process.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed (exit {process.returncode}): {last}"
    return json.loads(process.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------------------
# (c) scaling: the local monitor alone at growing sizes, each in a fresh process (its peak RSS is its own)


def scaling_worker(rows: int, seed: int) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from mlops.monitoring import load_config
    from mlops.monitoring.monitor import evaluate_window
    from mlops.monitoring.signals import WindowData

    start = time.perf_counter()
    reference, production = make_frames(rows, seed)
    generate = time.perf_counter() - start
    frames_mib = (reference.memory_usage(deep=True).sum() + production.memory_usage(deep=True).sum()) / 2**20
    import psutil

    before_mib = psutil.Process().memory_info().rss / 2**20  # the frames and the imports
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(monitor_config(Path(folder)))
        cpu, start = time.process_time(), time.perf_counter()
        evaluate_window(config, WindowData(reference, production))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_rss_mib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "generate": generate,
                "cpu": cpu,
                "frames_mib": frames_mib,
                "before_mib": before_mib,
                "peak_mib": peak,
            }
        )
    )


def scaling(sizes: list[int], seed: int, budget: float) -> None:
    print(
        "(c) scaling of the local monitor (all metrics), fresh process per size; reference and production N rows each"
    )
    print(f"    {'rows':>12}{'wall s':>9}{'CPU s':>9}{'CPU us/row':>12}{'frames MiB':>12}{'RSS before':>12}", end="")
    print(f"{'peak RSS MiB':>14}")
    per_row: dict[int, float] = {}
    previous: tuple[int, float] | None = None
    for rows in sizes:
        predicted = previous[1] * rows / previous[0] if previous else 0.0
        if predicted > budget:
            print(f"    {rows:>12,}  skipped: about {predicted:.0f} s predicted (more than --budget {budget:g})")
            continue
        command = [sys.executable, __file__, "--scaling-worker", "--rows", str(rows), "--seed", str(seed)]
        process = subprocess.run(command, capture_output=True, text=True, check=False)
        if process.returncode != 0:
            last = (process.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"    {rows:>12,}  failed (exit {process.returncode}): {last}")
            break
        result = json.loads(process.stdout.strip().splitlines()[-1])
        previous = (rows, result["generate"] + result["seconds"])  # the next size waits for both
        per_row[rows] = result["cpu"] / rows * 1e6
        print(
            f"    {rows:>12,}{result['seconds']:>9.2f}{result['cpu']:>9.2f}{per_row[rows]:>12.3f}"
            f"{result['frames_mib']:>12.0f}{result['before_mib']:>12.0f}{result['peak_mib']:>14.0f}"
        )
    print("    " + linearity(per_row, "CPU time per row"))


# ---------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument("--scaling-sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds one scaling size may take (predicted)")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--evidently-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scaling-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evidently_worker:
        evidently_worker(args.rows, args.seed)
        return 0
    if args.scaling_worker:
        scaling_worker(args.rows, args.seed)
        return 0

    sys.path.insert(0, str(REPO / "src"))
    from mlops.monitoring import load_config, run_monitor
    from mlops.monitoring.monitor import evaluate_window
    from mlops.monitoring.signals import WindowData

    start = time.perf_counter()
    reference, production = make_frames(args.rows, args.seed)
    print(
        f"data: {args.rows:,} rows x {len(reference.columns)} columns each for reference and production "
        f"({time.perf_counter() - start:.1f} s to generate, seed {args.seed})"
    )

    with tempfile.TemporaryDirectory() as folder:
        config_path = monitor_config(Path(folder))
        config = load_config(config_path)  # the YAML check is not part of the metric timing

        start = time.perf_counter()
        floor = floor_metrics(reference, production)
        floor_seconds = time.perf_counter() - start

        start = time.perf_counter()
        results = evaluate_window(config, WindowData(reference, production))
        library_seconds = time.perf_counter() - start
        worst = compare(floor, library_metrics(results))

        start = time.perf_counter()
        result = run_monitor(
            config_path, reference, production, out_dir=Path(folder) / "report", history_dir=folder, window_name="bench"
        )
        end_to_end = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    metrics = len(floor)
    print(f"metrics: {metrics} (8 numerical x 7, 2 categorical x 6); largest relative difference to scipy {worst:.1e}")
    print(f"(a) floor, scipy called per metric and column:  {floor_seconds:6.2f} s")
    print(
        f"    local monitor, all drift + quality metrics: {library_seconds:6.2f} s   "
        f"ratio {library_seconds / floor_seconds:.2f} (speed-up {floor_seconds / library_seconds:.1f}x)"
    )
    breaches = sum(len(s.breached_features) for s in result.signals)
    print(
        f"    run_monitor end to end (YAML check, signals, report.json, report.html with plots; "
        f"{breaches} feature breaches; history): {end_to_end:.2f} s"
    )
    if args.no_evidently:
        print("(b) evidently: not run (--no-evidently)")
    else:
        evidently = run_evidently(args.rows, args.seed)
        if isinstance(evidently, str):
            print(f"(b) evidently: {evidently}")
        else:
            seconds = evidently["seconds"]
            print(
                f"(b) evidently {evidently['version']} DataDriftPreset report: {seconds:6.2f} s   "
                f"ratio local/evidently {library_seconds / seconds:.3f} (speed-up {seconds / library_seconds:.0f}x); "
                f"its peak RSS {evidently['peak_mib']:.0f} MiB"
            )
    print(f"peak RSS of this process: {peak:.0f} MiB")
    if not args.no_scaling:
        scaling([int(size) for size in args.scaling_sizes.split(",")], args.seed, args.budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
