"""prep: the split (stratified, reproducible) and the profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prep import build_profile, describe_sources, split_frame
from tabular_common.errors import DataError
from tabular_common.schema import ColumnSpec, validate_frame

SPEC = ColumnSpec.from_inputs("diabetic", "plasma_glucose,bmi,age", "sex", "classification", "sex", "patient_id")


def cleaned(frame: pd.DataFrame) -> pd.DataFrame:
    return validate_frame(frame, SPEC, "x")


def test_split_is_stratified(frame: pd.DataFrame) -> None:
    data = cleaned(frame)
    data.loc[data.index[:200], "diabetic"] = 0  # imbalanced: ~17% positives
    train, test = split_frame(data, SPEC, 0.25, seed=7)
    assert len(train) + len(test) == len(data)
    assert len(test) == 60
    overall = data["diabetic"].mean()
    assert abs(train["diabetic"].mean() - overall) < 0.01
    assert abs(test["diabetic"].mean() - overall) < 0.02
    assert set(train["patient_id"]).isdisjoint(test["patient_id"])


def test_split_is_deterministic_for_a_seed(frame: pd.DataFrame) -> None:
    data = cleaned(frame)
    first = split_frame(data, SPEC, 0.2, seed=42)
    again = split_frame(data, SPEC, 0.2, seed=42)
    other = split_frame(data, SPEC, 0.2, seed=43)
    pd.testing.assert_frame_equal(first[1], again[1])
    assert first[1]["patient_id"].tolist() != other[1]["patient_id"].tolist()


def test_regression_split_is_not_stratified(frame: pd.DataFrame) -> None:
    spec = ColumnSpec.from_inputs("plasma_glucose", "bmi,age", "sex", "regression")
    train, test = split_frame(validate_frame(frame, spec, "x"), spec, 0.2, seed=1)
    assert (len(train), len(test)) == (192, 48)


def test_split_errors(frame: pd.DataFrame) -> None:
    data = cleaned(frame)
    with pytest.raises(DataError, match=r"test_size: 0.9 is outside \[0.05, 0.5\]"):
        split_frame(data, SPEC, 0.9, seed=1)
    data.loc[0, "diabetic"] = 2  # a class with one row
    with pytest.raises(DataError, match="class 2 has only 1 row; a stratified split needs at least 2"):
        split_frame(data, SPEC, 0.2, seed=1)


def test_profile(tmp_path: Path, frame: pd.DataFrame) -> None:
    raw = frame.assign(notes="x")
    raw.to_csv(tmp_path / "raw.csv", index=False)
    data = cleaned(raw)
    train, test = split_frame(data, SPEC, 0.2, seed=42)
    profile = build_profile(raw, data, SPEC, describe_sources(str(tmp_path / "raw.csv")), train, test, 0.2, 42)
    assert profile["sources"][0]["file"] == "raw.csv"
    assert len(profile["sources"][0]["sha256"]) == 64
    assert (profile["rows"], profile["columns"], profile["input_columns"]) == (240, 6, 7)
    assert profile["dropped_columns"] == ["notes"]
    bmi = profile["column_profiles"]["bmi"]
    assert bmi["nulls"] == 1 and bmi["role"] == "numeric" and bmi["dtype"] == "float64"
    assert bmi["min"] == pytest.approx(data["bmi"].min()) and bmi["std"] == pytest.approx(data["bmi"].std())
    assert profile["column_profiles"]["sex"]["value_counts"] == data["sex"].value_counts().to_dict()
    balance = profile["target"]["class_balance"]
    assert sum(balance.values()) == pytest.approx(1.0)
    assert profile["split"] == {
        "test_size": 0.2,
        "seed": 42,
        "stratified": True,
        "train_rows": 192,
        "test_rows": 48,
    }
    assert profile["missing_value_rate"] == pytest.approx(1 / (240 * 6))
    assert np.isfinite(profile["column_profiles"]["age"]["mean"])
