"""tabular_common.io: every shape a tabular input can arrive in, and the errors for the ones it cannot."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tabular_common.errors import DataError
from tabular_common.io import file_sha256, read_table, table_files, write_mltable


def test_reads_a_csv_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "data.csv", index=False)
    loaded = read_table(tmp_path / "data.csv")
    assert list(loaded.columns) == list(frame.columns)
    assert len(loaded) == len(frame)


def test_reads_a_parquet_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "data.parquet"), frame)


def test_mltable_folder_round_trip(tmp_path: Path, frame: pd.DataFrame) -> None:
    folder = write_mltable(frame, tmp_path / "table")
    document = yaml.safe_load((folder / "MLTable").read_text())
    assert document["paths"] == [{"file": "./data.parquet"}]
    assert document["transformations"] == ["read_parquet"]
    pd.testing.assert_frame_equal(read_table(folder), frame)
    # the MLTable file itself is accepted too
    assert len(read_table(folder / "MLTable")) == len(frame)


def test_mltable_with_pattern_and_read_delimited(tmp_path: Path, frame: pd.DataFrame) -> None:
    (tmp_path / "parts").mkdir()
    frame.iloc[:100].to_csv(tmp_path / "parts" / "a.csv", index=False, sep=";")
    frame.iloc[100:].to_csv(tmp_path / "parts" / "b.csv", index=False, sep=";")
    (tmp_path / "MLTable").write_text(
        "paths:\n  - pattern: ./parts/*.csv\ntransformations:\n  - read_delimited:\n      delimiter: ';'\n"
    )
    loaded = read_table(tmp_path)
    assert len(loaded) == len(frame)
    assert loaded["patient_id"].tolist() == frame["patient_id"].tolist()


def test_mltable_folder_path_with_a_read_transformation_reads_every_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    """Like Azure's MLTable: the transformation says how to read, so extensions do not matter."""
    (tmp_path / "parts" / "later").mkdir(parents=True)
    frame.iloc[:100].to_csv(tmp_path / "parts" / "a.txt", index=False)
    frame.iloc[100:].to_csv(tmp_path / "parts" / "later" / "b", index=False)
    (tmp_path / "parts" / ".hidden").write_text("not data")
    (tmp_path / "MLTable").write_text("paths:\n  - folder: ./parts\ntransformations:\n  - read_delimited\n")
    assert [p.name for p in table_files(tmp_path)] == ["a.txt", "b"]
    assert read_table(tmp_path)["patient_id"].tolist() == frame["patient_id"].tolist()
    # without a read transformation only .csv / .parquet files are table files
    (tmp_path / "MLTable").write_text("paths:\n  - folder: ./parts\n")
    with pytest.raises(DataError, match="'paths' matched no files"):
        read_table(tmp_path)


def test_reads_the_committed_training_data_asset(frame: pd.DataFrame) -> None:
    """data/diabetes-training (file path, read_delimited with delimiter, encoding and header options)."""
    folder = Path(__file__).resolve().parents[3] / "data" / "diabetes-training"
    loaded = read_table(folder)
    assert len(loaded) > 100 and {"patient_id", "diabetic", "plasma_glucose"} <= set(loaded.columns)
    assert table_files(folder) == [folder / "diabetes.csv"]


def test_reads_a_folder_of_files_in_name_order(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.iloc[120:].to_parquet(tmp_path / "part-2.parquet", index=False)
    frame.iloc[:120].to_csv(tmp_path / "part-1.csv", index=False)
    (tmp_path / "README.txt").write_text("not data")
    assert [p.name for p in table_files(tmp_path)] == ["part-1.csv", "part-2.parquet"]
    loaded = read_table(tmp_path)
    assert loaded["patient_id"].tolist() == frame["patient_id"].tolist()


def test_files_with_different_columns_are_an_error(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.drop(columns=["bmi"]).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataError, match=r"b\.csv: columns .* differ"):
        read_table(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "the file is empty"), ("a,b\n", "header but no data rows")],
)
def test_empty_inputs(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "data.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "data.csv")


def test_missing_path_unsupported_type_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(DataError, match=r"unsupported file type '\.json'"):
        read_table(tmp_path / "data.json")
    with pytest.raises(DataError, match=r"no MLTable file and no \.csv or \.parquet files \(found: \['data.json'\]\)"):
        read_table(tmp_path)


@pytest.mark.parametrize(
    ("mltable", "message"),
    [
        ("paths: []\n", "non-empty 'paths' list"),
        ("paths:\n  - file: ./missing.parquet\n", "file './missing.parquet' not found"),
        ("paths:\n  - file: azureml://datastores/x/paths/y.csv\n", "is a remote URI"),
        (
            "paths:\n  - file: ./d.csv\ntransformations:\n  - take: 5\n",
            "transformation 'take' is not supported",
        ),
        ("paths: [\n", "not valid YAML"),
    ],
)
def test_bad_mltable_files(tmp_path: Path, mltable: str, message: str) -> None:
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    (tmp_path / "MLTable").write_text(mltable)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path)


def test_unreadable_parquet_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_text("definitely not parquet")
    with pytest.raises(DataError, match=r"data\.parquet: cannot be read as parquet"):
        read_table(tmp_path / "data.parquet")


def test_file_sha256(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(b"a,b\n1,2\n")
    assert file_sha256(tmp_path / "x.csv") == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
