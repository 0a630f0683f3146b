"""Column declarations and their validation against a data frame.

The column roles (target, numeric and categorical features, sensitive feature, id) are pipeline inputs, so one
data set can be swapped for another by editing YAML. Everything here raises `DataError` with a message that names
the column and says what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tabular_common.errors import DataError
from tabular_common.metrics import label_text

TASKS = ("classification", "regression")
_MAX_LISTED_COLUMNS = 30
# Fairness metrics per group mean little on tiny groups, and a feature with many groups (a numeric column, an id)
# is not a group at all: the data the metrics are computed on must have at most this many groups of this many rows.
MAX_SENSITIVE_GROUPS = 20
MIN_GROUP_ROWS = 30
MISSING_GROUP = "(missing)"
# A classification target with more distinct values than this, and more than this share of the rows distinct, looks
# continuous (the monitor's rule for integers: categorical when distinct values / rows < 0.05).
CONTINUOUS_MIN_DISTINCT = 20
CONTINUOUS_MIN_DISTINCT_SHARE = 0.05


def parse_columns(value: str | None, field: str) -> list[str]:
    """`"a, b,c"` → `["a", "b", "c"]`; None or an empty string → `[]`. A name listed twice is an error."""
    if value is None:
        return []
    names = [name.strip() for name in str(value).split(",")]
    names = [name for name in names if name]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{field}: column '{name}' is listed more than once")
        seen.add(name)
    return names


def optional_name(value: str | None) -> str | None:
    """An optional single column name: None or blank → None."""
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def check_task(task: str) -> str:
    if task not in TASKS:
        raise DataError(f"task: '{task}' is not supported; expected one of {', '.join(TASKS)}")
    return task


@dataclass(frozen=True)
class ColumnSpec:
    """The roles of the columns of a tabular data set."""

    target: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    task: str = "classification"
    sensitive: str | None = None
    id_column: str | None = None

    @classmethod
    def from_inputs(
        cls,
        target_column: str,
        numeric_features: str | None,
        categorical_features: str | None = None,
        task: str = "classification",
        sensitive_feature: str | None = None,
        id_column: str | None = None,
    ) -> ColumnSpec:
        """Build from component inputs (comma-separated lists) and check the declaration is consistent."""
        target = optional_name(target_column)
        if target is None:
            raise DataError("target_column: a target column name is required")
        numeric = parse_columns(numeric_features, "numeric_features")
        categorical = parse_columns(categorical_features, "categorical_features")
        spec = cls(
            target=target,
            numeric=tuple(numeric),
            categorical=tuple(categorical),
            task=check_task(task),
            sensitive=optional_name(sensitive_feature),
            id_column=optional_name(id_column),
        )
        spec.check_declaration()
        return spec

    def check_declaration(self) -> None:
        both = [name for name in self.numeric if name in self.categorical]
        if both:
            raise DataError(
                f"column '{both[0]}' is declared both in numeric_features and in categorical_features; "
                "give each feature one type"
            )
        if not self.features:
            raise DataError("numeric_features and categorical_features are both empty; declare at least one feature")
        if self.target in self.features:
            which = "numeric_features" if self.target in self.numeric else "categorical_features"
            raise DataError(f"target column '{self.target}' is also listed in {which}; a target cannot be a feature")
        if self.id_column is not None and self.id_column in (*self.features, self.target):
            raise DataError(f"id_column '{self.id_column}' is also declared as a feature or the target")
        if self.sensitive is not None and self.sensitive in (self.target, self.id_column):
            raise DataError(f"sensitive_feature '{self.sensitive}' cannot be the target or the id column")

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def keep_columns(self) -> list[str]:
        """id, sensitive feature, features, target — each once, in that order."""
        ordered = [self.id_column, self.sensitive, *self.features, self.target]
        return list(dict.fromkeys(name for name in ordered if name is not None))


def validate_frame(frame: pd.DataFrame, spec: ColumnSpec, source: str) -> pd.DataFrame:
    """Check `frame` against `spec` and return only the declared columns, cleaned.

    Numeric features become float64 (numeric strings are converted), categorical features become strings (nulls
    kept for the imputer), the target is checked for nulls and, for classification, at least two classes.
    """
    if len(frame) == 0:
        raise DataError(f"{source}: the table has no data rows")
    duplicated = sorted({str(name) for name in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise DataError(f"{source}: column name(s) {_names(duplicated)} appear more than once in the data")
    require_columns(frame, spec.keep_columns, source)
    for name in spec.keep_columns:
        if frame[name].isna().all():
            raise DataError(f"{source}: column '{name}' is entirely null ({len(frame)} rows)")
    cleaned = frame[spec.keep_columns].copy()
    for name in spec.numeric:
        cleaned[name] = to_numeric(cleaned[name], f"numeric feature '{name}'", source)
    for name in spec.categorical:
        cleaned[name] = to_category_strings(cleaned[name], f"categorical feature '{name}'", source)
    cleaned[spec.target] = check_target(cleaned[spec.target], spec.target, spec.task, source)
    return cleaned.reset_index(drop=True)


def prepare_features(
    frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str], source: str
) -> pd.DataFrame:
    """The model input: declared feature columns only, numeric as float64 and categorical as strings."""
    columns = [*numeric, *categorical]
    require_columns(frame, columns, source)
    features = pd.DataFrame(index=frame.index)
    for name in numeric:
        features[name] = to_numeric(frame[name], f"numeric feature '{name}'", source)
    for name in categorical:
        features[name] = to_category_strings(frame[name], f"categorical feature '{name}'", source)
    return features


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    available = [str(name) for name in frame.columns]
    missing = [name for name in columns if name not in available]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {_names(missing)}; available columns: {_names(available, quote=False)}"
        )


def to_numeric(series: pd.Series, what: str, source: str) -> pd.Series:
    """float64 values; a value that is not a number is an error naming the column, its dtype and the value."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        example = series.iloc[position]
        raise DataError(
            f"{source}: {what} must be numeric but has dtype {series.dtype}; value {show_value(example)} in data row "
            f"{position + 1} is not a number ({int(bad.sum())} such value(s))"
        )
    return converted.astype("float64")


def to_category_strings(series: pd.Series, what: str, source: str) -> pd.Series:
    """Strings (pandas `str` dtype) with nulls kept; whole-number floats print without `.0`."""
    values = series.dropna()
    nested = values.map(lambda value: isinstance(value, list | tuple | dict | set | np.ndarray))
    if nested.any():
        example = values[nested].iloc[0]
        raise DataError(
            f"{source}: {what} must hold scalar values castable to string; found {type(example).__name__} {example!r}"
        )
    if pd.api.types.is_float_dtype(series) and values.size and np.all(np.mod(values.to_numpy(), 1) == 0):
        series = series.astype("Int64")
    return series.astype("str")


def check_target(series: pd.Series, name: str, task: str, source: str, min_classes: int = 2) -> pd.Series:
    """No nulls; numeric for regression; integer or string labels (at least `min_classes`) for classification."""
    nulls = int(series.isna().sum())
    if nulls:
        rows = [int(i) + 1 for i in np.flatnonzero(series.isna().to_numpy())[:5]]
        raise DataError(
            f"{source}: target column '{name}' has {nulls} row(s) with a null value (data rows "
            f"{', '.join(map(str, rows))}{', ...' if nulls > len(rows) else ''}); every row needs a target"
        )
    if task == "regression":
        return to_numeric(series, f"regression target '{name}'", source)
    if pd.api.types.is_float_dtype(series):
        if not np.all(np.mod(series.to_numpy(), 1) == 0):
            example = series[np.mod(series.to_numpy(), 1) != 0].iloc[0]
            raise DataError(
                f"{source}: classification target '{name}' has non-integer numbers (e.g. {example}); it looks "
                "continuous: use task 'regression' (e.g. --set inputs.task=regression inputs.primary_metric=r2)"
            )
        series = series.astype("int64")
    classes = series.unique()
    if len(classes) < min_classes:
        raise DataError(
            f"{source}: classification target '{name}' needs at least {min_classes} classes, found {len(classes)} "
            f"({show_value(classes[0])})"
        )
    return series


def looks_continuous(series: pd.Series) -> bool:
    """A numeric target with many distinct values (more than 20, and 5% of the rows or more)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) or len(series) == 0:
        return False
    distinct = int(series.nunique(dropna=True))
    return distinct > CONTINUOUS_MIN_DISTINCT and distinct / len(series) >= CONTINUOUS_MIN_DISTINCT_SHARE


def regression_hint(series: pd.Series, name: str) -> str:
    """For a classification error on `series`: the hint to use regression when the target looks continuous."""
    if not looks_continuous(series):
        return ""
    return (
        f"; target '{name}' has {series.nunique()} distinct values in {len(series)} rows and looks continuous: "
        "use task 'regression' (e.g. --set inputs.task=regression inputs.primary_metric=r2)"
    )


def resolve_positive_label(classes: Sequence[object], given: str | None, task: str, target: str) -> object | None:
    """The positive class of a binary classifier: the class `given` names (matched by text: "1" names 1), else the
    class that sorts last (scikit-learn's `classes_[1]`). None for multiclass and regression, where giving one is an
    error. `classes` sorted as scikit-learn sorts them (`np.unique`)."""
    given = optional_name(given)
    if task != "classification":
        if given is not None:
            raise DataError(
                f"positive_label: '{given}' is given but task is '{task}'; a positive label applies to binary "
                "classification only, leave it empty"
            )
        return None
    labels = [value.item() if isinstance(value, np.generic) else value for value in classes]
    shown = ", ".join(repr(label) for label in labels[:_MAX_LISTED_COLUMNS])
    if len(labels) != 2:
        if given is not None:
            raise DataError(
                f"positive_label: '{given}' is given but target '{target}' has {len(labels)} classes ({shown}); a "
                "positive label applies to binary classification only, leave it empty"
            )
        return None
    if given is None:
        return labels[-1]
    texts = [label_text(label) for label in labels]
    if given not in texts:
        raise DataError(f"positive_label: '{given}' is not one of the classes of target '{target}': {shown}")
    return labels[texts.index(given)]


def check_sensitive_groups(groups: pd.Series, name: str, source: str) -> None:
    """At most MAX_SENSITIVE_GROUPS groups (nulls are a group) and MIN_GROUP_ROWS rows or more in each."""
    counts = groups.astype("str").where(groups.notna(), MISSING_GROUP).value_counts()
    hint = (
        f"; bin it into a derived column with at most {MAX_SENSITIVE_GROUPS} groups of {MIN_GROUP_ROWS}+ rows each "
        "(e.g. age -> age_band '<30', '30-49', '50+') in the data asset and name that column as sensitive_feature "
        "(see components/README.md, 'Sensitive feature')"
    )
    if len(counts) > MAX_SENSITIVE_GROUPS:
        raise DataError(
            f"{source}: sensitive_feature '{name}' has {len(counts)} groups in {len(groups)} rows, more than "
            f"{MAX_SENSITIVE_GROUPS}{hint}"
        )
    small = counts[counts < MIN_GROUP_ROWS]
    if len(small):
        listed = ", ".join(f"{group!r} ({int(count)})" for group, count in small.sort_values().head(5).items())
        raise DataError(
            f"{source}: sensitive_feature '{name}' has {len(small)} group(s) with fewer than {MIN_GROUP_ROWS} rows "
            f"({listed}{', ...' if len(small) > 5 else ''}){hint}"
        )


def show_value(value: object) -> str:
    """A data value for a message: numpy scalars shown as plain Python values (`2`, not `np.int64(2)`)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _names(names: Sequence[str], quote: bool = True) -> str:
    shown = [f"'{name}'" if quote else str(name) for name in names[:_MAX_LISTED_COLUMNS]]
    more = f", ... ({len(names) - _MAX_LISTED_COLUMNS} more)" if len(names) > _MAX_LISTED_COLUMNS else ""
    return ", ".join(shown) + more


def describe_columns(names: Sequence[str]) -> str:
    """A column list as an MLflow param / tag value (`"none"` when empty, never a blank value)."""
    return ",".join(names) if names else "none"
