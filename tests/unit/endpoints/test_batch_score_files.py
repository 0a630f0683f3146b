"""endpoints/batch/score.py on bad files: every one raises BadFile, one line naming the file and, for a bad value,
the column and the data row (1 = the first row after the header); a good file scores as the model predicts."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scoring_scripts import ID_COLUMN, REPO, init_script

ROWS = pd.read_csv(REPO / "data" / "production" / "baseline.csv", nrows=5)


@pytest.fixture(scope="module")
def batch(diabetes_model) -> ModuleType:
    settings = {"AZUREML_MODEL_DIR": str(diabetes_model.version_dir), "ID_COLUMN": ID_COLUMN}
    return init_script("batch/score.py", "batch_score_files", settings)


def csv_with(column: str, text: str, row: int = 1) -> bytes:
    """The sample rows as CSV with one cell replaced by `text`, as written."""
    frame = ROWS.astype(object)
    frame.loc[row, column] = "@CELL@"
    return frame.to_csv(index=False).replace("@CELL@", text).encode()


HEADER = ",".join(ROWS.columns)

# case -> (file name, content, fragment of the BadFile message)
BAD_FILES = {
    "inf": ("in.csv", csv_with("bmi", "inf"), "in.csv, data row 2: column 'bmi' expects finite numbers within"),
    "1e999": ("in.csv", csv_with("bmi", "1e999"), "column 'bmi' expects finite numbers within +-1e+15, got inf"),
    "-Infinity": ("in.csv", csv_with("age", "-Infinity", 0), "data row 1: column 'age' expects finite numbers"),
    "a 30-digit integer": ("in.csv", csv_with("age", "9" * 30), "column 'age' expects finite numbers within"),
    "beyond the magnitude limit": ("in.csv", csv_with("bmi", "2e15"), "got 2000000000000000.0"),
    "text in a numeric column": ("in.csv", csv_with("bmi", "thirty"), "column 'bmi' expects numbers, got 'thirty'"),
    "booleans in a numeric column": (
        "in.csv",
        ROWS.assign(age=[True, False] * 2 + [True]).to_csv(index=False).encode(),
        "data row 1: column 'age' expects numbers, got True",
    ),
    "a missing id": ("in.csv", csv_with(ID_COLUMN, "", 3), "data row 4: column 'patient_id' expects an id in every"),
    "a fractional id": ("in.csv", csv_with(ID_COLUMN, "200000.5"), "expects integer (64-bit) or string ids, got"),
    "an id beyond 64 bits": ("in.csv", csv_with(ID_COLUMN, str(2**64)), "column 'patient_id' expects integer"),
    "a repeated header": (
        "in.csv",
        f"{HEADER},bmi\n".encode() + b"\n".join(line + b",1" for line in csv_with("bmi", "1").splitlines()[1:]),
        "in.csv: column(s) ['bmi'] appear more than once in the header",
    ),
    "a row wider than the header": (
        "in.csv",
        csv_with("smoking_status", "never,extra"),
        "in.csv: not a readable CSV file (ParserError: Error tokenizing data. C error: Expected 12 fields in line 3",
    ),
    "a first row wider than the header": (  # pandas would make its first value the index, silently
        "in.csv",
        csv_with("smoking_status", "never,extra", 0),
        "in.csv: not a readable CSV file (ParserWarning: Length of header or names does not match",
    ),
    "an unterminated quote": ("in.csv", csv_with("sex", '"female'), "in.csv: not a readable CSV file"),
    "not UTF-8": ("in.csv", csv_with("sex", "@").replace(b"@", b"\xff\xfe"), "in.csv: not a readable CSV file"),
    "empty": ("in.csv", b"", "in.csv: the file is empty (expected a header row)"),
    "header only": ("in.csv", f"{HEADER}\n".encode(), "in.csv: a header but no data rows"),
    "a missing column": ("in.csv", ROWS.drop(columns="bmi").to_csv(index=False).encode(), "missing column(s) ['bmi']"),
    "not parquet": ("in.parquet", b"PAR1 not really", "in.parquet: not a readable parquet file"),
    "not a table": ("in.txt", b"a,b\n1,2\n", "in.txt: expected a .csv or .parquet file"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_one_clear_error(batch, tmp_path, case) -> None:
    name, content, fragment = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(batch.BadFile) as error:
        batch.run([str(path)])
    message = str(error.value)
    assert fragment in message and "\n" not in message


def test_a_parquet_file_with_list_ids_names_the_column(batch, tmp_path) -> None:
    path = tmp_path / "in.parquet"
    ROWS.assign(patient_id=[[1, 2]] * len(ROWS)).to_parquet(path)
    with pytest.raises(batch.BadFile, match=r"in.parquet, data row 1: column 'patient_id' expects integer"):
        batch.run([str(path)])


def test_a_good_file_scores_as_the_model_predicts(batch, diabetes_model, tmp_path) -> None:
    """Text columns are read as text (a category that looks like a number stays one), numbers as float64."""
    rows = ROWS.assign(smoking_status=["1", "never", "current", "former", "never"])
    rows.loc[2, "bmi"] = np.nan
    path = tmp_path / "in.csv"
    rows.to_csv(path, index=False)
    parquet = tmp_path / "in.parquet"
    rows.to_parquet(parquet)
    output = batch.run([str(path), str(parquet)])
    features = rows[diabetes_model.columns]
    features = features.astype({c: "float64" for c in features.columns if features[c].dtype.kind in "if"})
    expected = diabetes_model.estimator.predict(features).tolist()
    assert output["prediction"].tolist() == expected * 2
    assert output[ID_COLUMN].tolist() == ROWS[ID_COLUMN].tolist() * 2
    assert output["source_file"].tolist() == ["in.csv"] * 5 + ["in.parquet"] * 5
    assert np.isfinite(output["probability"]).all()
    assert Path(path).read_text() == rows.to_csv(index=False)  # the input is left as it was


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_read_in_chunks_scores_as_one_read(batch, tmp_path, monkeypatch, suffix) -> None:
    """Large files stream through CHUNK_ROWS rows at a time; the output is the one a single read gives."""
    rows = ROWS.assign(sex=["female", None, "mâle", "male", "female"])
    path = tmp_path / f"in{suffix}"
    rows.to_csv(path, index=False) if suffix == ".csv" else rows.to_parquet(path)
    whole = batch.run([str(path)]).drop(columns="scored_at")
    monkeypatch.setattr(batch, "CHUNK_ROWS", 2)
    chunked = batch.run([str(path)]).drop(columns="scored_at")
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked[ID_COLUMN].tolist() == ROWS[ID_COLUMN].tolist()


def test_a_bad_value_in_a_later_chunk_names_its_row_in_the_file(batch, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(batch, "CHUNK_ROWS", 2)
    csv = tmp_path / "in.csv"
    csv.write_bytes(csv_with("bmi", "thirty", 3))
    with pytest.raises(batch.BadFile, match=r"in.csv, data row 4: column 'bmi' expects numbers, got 'thirty'"):
        batch.run([str(csv)])
    parquet = tmp_path / "in.parquet"
    ids = pd.array([*ROWS[ID_COLUMN][:3], None, ROWS[ID_COLUMN][4]], dtype="Int64")
    ROWS.assign(**{ID_COLUMN: ids}).to_parquet(parquet)
    with pytest.raises(batch.BadFile, match=rf"in.parquet, data row 4: column '{ID_COLUMN}' expects an id in every"):
        batch.run([str(parquet)])


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_whole_column_checks_agree_with_the_value_rules(storage) -> None:
    """A column of valid text, or of ids its type settles, is taken whole (how the batch script reads CSV and
    parquet); value by value, the same rules give the same values and refuse what the whole-column check lets
    through."""
    from scoring_common import InvalidValue, feature_values, id_values, whole_text

    dtype = pd.StringDtype(storage, na_value=np.nan)
    text = pd.Series(["female", None, "mâle", ""], dtype=dtype)
    assert whole_text(text) == (storage == "pyarrow")  # Python strings: whole when ASCII only
    assert whole_text(pd.Series(["female", None, ""], dtype=dtype))
    assert (
        feature_values("sex", "string", text).tolist() == feature_values("sex", "string", text.astype(object)).tolist()
    )
    assert id_values(ID_COLUMN, pd.Series([1, 2**63 - 1], dtype="int64")) == [1, 2**63 - 1]
    assert id_values(ID_COLUMN, pd.Series(["a-1", "b-2"], dtype=dtype)) == ["a-1", "b-2"]
    for bad in (pd.Series(["a-1", ""], dtype=dtype), pd.Series(["a-1", None], dtype=dtype), pd.Series([1, None])):
        with pytest.raises(InvalidValue, match=f"row 1: column '{ID_COLUMN}' expects an id in every row"):
            id_values(ID_COLUMN, bad)
    surrogate = pd.Series(["ok", "\ud800"], dtype=object)
    assert not whole_text(surrogate)
