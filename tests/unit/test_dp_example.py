"""The differential-privacy example: OpenDP's chain spends exactly the epsilon asked for, its noise has the
Laplace mechanism's scale, and the script writes its release and trade-off plot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "differential-privacy" / "dp_release.py"


@pytest.fixture(scope="module")
def dp():
    spec = importlib.util.spec_from_file_location("dp_release", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("lower", "upper", "rows", "epsilon"), [(0, 100, 1000, 1.0), (15, 50, 8000, 0.1), (-1, 1, 10, 3)]
)
def test_the_scale_is_sensitivity_over_epsilon_and_opendp_agrees(dp, lower, upper, rows, epsilon) -> None:
    scale = dp.laplace_scale(lower, upper, rows, epsilon)
    assert scale == pytest.approx((upper - lower) / rows / epsilon)
    spent = dp.mean_release(lower, upper, rows, epsilon).map(1)  # one row added or removed
    assert spent == pytest.approx(epsilon, rel=1e-6)


def test_the_noise_has_the_mechanisms_scale(dp) -> None:
    values = [30.0] * 100  # a constant column: every release is 30 + Laplace noise
    release = dp.mean_release(0.0, 60.0, 100, 0.5)
    noise = np.array([release(values) - 30.0 for _ in range(3000)])
    scale = dp.laplace_scale(0.0, 60.0, 100, 0.5)  # 1.2
    assert np.mean(np.abs(noise)) == pytest.approx(scale, rel=0.1)  # E|Laplace(b)| = b
    assert np.std(noise) == pytest.approx(np.sqrt(2) * scale, rel=0.1)


def test_the_script_writes_its_release_and_tradeoff(dp, tmp_path: Path) -> None:
    assert (
        dp.main(["--column", "age", "--lower", "21", "--upper", "80", "--repeats", "20", "--out", str(tmp_path)]) == 0
    )
    result = json.loads((tmp_path / "release.json").read_text())
    assert result["epsilon_spent_one_row_added_or_removed"] == pytest.approx(1.0, rel=1e-6)
    assert abs(result["released_mean"] - result["true_mean"]) < 20 * result["laplace_scale"]
    errors = [row["mean_abs_error"] for row in result["tradeoff"]]
    assert errors[0] > errors[-1] and [row["epsilon"] for row in result["tradeoff"]] == list(dp.EPSILONS)
    assert (tmp_path / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"


def test_a_column_that_is_not_there_is_named(dp, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--column: 'weight' is not a column"):
        dp.main(["--column", "weight", "--out", str(tmp_path)])
