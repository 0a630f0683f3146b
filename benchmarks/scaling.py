"""What the scaling benchmarks share: a process's peak memory and the verdict on whether time grows linearly."""

from __future__ import annotations

import resource
from pathlib import Path

# Linear when the time per row at the largest size is within this share of the one at the size before it.
LINEAR_TOLERANCE = 0.25


def peak_rss_mib(pid: int | str = "self") -> float:
    """A process's peak RSS: Linux's VmHWM (getrusage's ru_maxrss carries the parent's over fork and exec)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else float("nan")
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "nan")
    return float(kib) / 1024


def linearity(us_per_row: dict[int, float], measure: str = "CPU time per row") -> str:
    """Judged on the two largest sizes (the smallest carry fixed start-up costs, their per-row time is noise)."""
    sizes = sorted(us_per_row)
    if len(sizes) < 2 or sizes[-2] < 100_000:
        return "linearity: not judged (needs two sizes of at least 100,000 rows)"
    largest, before = sizes[-1], sizes[-2]
    change = us_per_row[largest] / us_per_row[before] - 1
    verdict = "linear" if abs(change) <= LINEAR_TOLERANCE else "NOT linear"
    return (
        f"linearity: {measure} at {largest:,} rows is {change:+.0%} of the one at {before:,} "
        f"(within +-{LINEAR_TOLERANCE:.0%}: linear): {verdict}"
    )
