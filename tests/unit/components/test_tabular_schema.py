"""tabular_common.schema: declarations and data are checked, and every error names the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tabular_common.errors import DataError
from tabular_common.schema import ColumnSpec, parse_columns, prepare_features, validate_frame


def spec(**overrides: object) -> ColumnSpec:
    inputs = {
        "target_column": "diabetic",
        "numeric_features": "plasma_glucose,bmi,age",
        "categorical_features": "sex",
        "task": "classification",
        "sensitive_feature": "sex",
        "id_column": "patient_id",
    } | overrides
    return ColumnSpec.from_inputs(**inputs)  # type: ignore[arg-type]


def test_parse_columns() -> None:
    assert parse_columns(" a, b ,c,", "numeric_features") == ["a", "b", "c"]
    assert parse_columns("", "categorical_features") == []
    assert parse_columns(None, "categorical_features") == []
    with pytest.raises(DataError, match="numeric_features: column 'a' is listed more than once"):
        parse_columns("a,b,a", "numeric_features")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"categorical_features": "sex,age"},
            "column 'age' is declared both in numeric_features and in categorical",
        ),
        ({"numeric_features": "bmi,bmi"}, "numeric_features: column 'bmi' is listed more than once"),
        ({"numeric_features": "", "categorical_features": ""}, "declare at least one feature"),
        ({"numeric_features": "bmi,diabetic"}, "target column 'diabetic' is also listed in numeric_features"),
        ({"id_column": "bmi"}, "id_column 'bmi' is also declared as a feature"),
        ({"sensitive_feature": "diabetic"}, "sensitive_feature 'diabetic' cannot be the target"),
        ({"target_column": " "}, "target_column: a target column name is required"),
        ({"task": "ranking"}, "task: 'ranking' is not supported"),
    ],
)
def test_declaration_errors(overrides: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        spec(**overrides)


def test_keeps_declared_columns_only_and_cleans_types(frame: pd.DataFrame) -> None:
    frame = frame.assign(extra=1, age=frame["age"].astype("int64"))
    cleaned = validate_frame(frame, spec(), "data.csv")
    assert list(cleaned.columns) == ["patient_id", "sex", "plasma_glucose", "bmi", "age", "diabetic"]
    assert cleaned["age"].dtype == "float64"
    assert cleaned["bmi"].isna().sum() == 1  # nulls in features are kept for the imputer
    assert pd.api.types.is_string_dtype(cleaned["sex"])


def test_missing_columns_are_listed_with_the_available_ones(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError) as error:
        validate_frame(frame.drop(columns=["bmi", "sex"]), spec(), "data.csv")
    message = str(error.value)
    assert "data.csv: missing column(s) 'sex', 'bmi'" in message
    assert "available columns: patient_id, plasma_glucose, age, diabetic" in message


def test_non_numeric_feature_names_column_dtype_and_value(frame: pd.DataFrame) -> None:
    frame["bmi"] = frame["bmi"].astype(str)
    frame.loc[7, "bmi"] = "thirty"
    with pytest.raises(DataError) as error:
        validate_frame(frame, spec(), "data.csv")
    message = str(error.value)
    assert "numeric feature 'bmi' must be numeric but has dtype" in message
    assert "value 'thirty' in data row 8" in message


def test_numeric_strings_are_converted(frame: pd.DataFrame) -> None:
    frame["age"] = frame["age"].astype(str)
    assert validate_frame(frame, spec(), "x")["age"].dtype == "float64"


def test_categorical_values_must_be_scalars(frame: pd.DataFrame) -> None:
    frame["sex"] = frame["sex"].astype(object)
    frame.at[2, "sex"] = ["F", "M"]
    with pytest.raises(DataError, match="categorical feature 'sex' must hold scalar values castable to string"):
        validate_frame(frame, spec(), "x")


def test_whole_number_categories_print_without_decimals() -> None:
    data = pd.DataFrame({"code": [1.0, 2.0, np.nan, 1.0], "y": [0, 1, 0, 1]})
    cleaned = validate_frame(data, ColumnSpec.from_inputs("y", "", "code"), "x")
    assert cleaned["code"].tolist()[:2] == ["1", "2"]
    assert cleaned["code"].isna().sum() == 1


def test_all_null_column_is_named(frame: pd.DataFrame) -> None:
    frame["bmi"] = np.nan
    with pytest.raises(DataError, match=r"column 'bmi' is entirely null \(240 rows\)"):
        validate_frame(frame, spec(), "x")


def test_null_target_rows_are_counted(frame: pd.DataFrame) -> None:
    frame["diabetic"] = frame["diabetic"].astype("float64")
    frame.loc[[4, 9, 11], "diabetic"] = np.nan
    with pytest.raises(
        DataError, match=r"target column 'diabetic' has 3 row\(s\) with a null value \(data rows 5, 10, 12\)"
    ):
        validate_frame(frame, spec(), "x")


def test_classification_needs_two_classes(frame: pd.DataFrame) -> None:
    frame["diabetic"] = 1
    with pytest.raises(DataError, match="'diabetic' needs at least 2 classes, found 1"):
        validate_frame(frame, spec(), "x")


def test_classification_float_target(frame: pd.DataFrame) -> None:
    frame["diabetic"] = frame["diabetic"].astype("float64")
    assert validate_frame(frame, spec(), "x")["diabetic"].dtype == "int64"
    frame.loc[0, "diabetic"] = 0.5
    with pytest.raises(DataError, match=r"non-integer numbers .* use task 'regression'"):
        validate_frame(frame, spec(), "x")


def test_regression_target_must_be_numeric(frame: pd.DataFrame) -> None:
    frame["diabetic"] = np.where(frame["diabetic"] == 1, "yes", "no")
    with pytest.raises(DataError, match="regression target 'diabetic' must be numeric but has dtype str; value"):
        validate_frame(frame, spec(task="regression"), "x")


def test_empty_frame_and_duplicate_data_columns(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="no data rows"):
        validate_frame(frame.iloc[:0], spec(), "x")
    duplicated = pd.concat([frame, frame[["bmi"]]], axis=1)
    with pytest.raises(DataError, match="column name\\(s\\) 'bmi' appear more than once"):
        validate_frame(duplicated, spec(), "x")


def test_prepare_features(frame: pd.DataFrame) -> None:
    features = prepare_features(frame, ["bmi", "age"], ["sex"], "test")
    assert list(features.columns) == ["bmi", "age", "sex"]
    assert features.dtypes["age"] == "float64"
    with pytest.raises(DataError, match="missing column\\(s\\) 'smoker'"):
        prepare_features(frame, ["bmi"], ["smoker"], "test")
