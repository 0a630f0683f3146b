"""Champion selection (pure) and champion scoring, with a fake registry client and loader."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pytest
from champion import score_champion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, RESOURCE_DOES_NOT_EXIST
from sklearn.linear_model import LogisticRegression
from tabular_common.errors import DataError
from tabular_common.registry import champion_versions, check_model_name, search_versions, select_champion


@dataclass
class Version:
    version: str
    tags: dict[str, str] = field(default_factory=dict)


class Page(list):
    def __init__(self, items: list, token: str | None = None) -> None:
        super().__init__(items)
        self.token = token


class FakeClient:
    def __init__(self, pages: list[Page] | None = None, error: Exception | None = None) -> None:
        self.pages = pages or [Page([])]
        self.error = error
        self.calls: list[tuple[str, str | None]] = []

    def search_model_versions(self, filter_string: str, page_token: str | None = None) -> Page:
        self.calls.append((filter_string, page_token))
        if self.error:
            raise self.error
        return self.pages[len(self.calls) - 1]


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ([], None),
        ([Version("1"), Version("2", {"stage": "x"})], None),
        ([Version("1", {"champion": "true"}), Version("2")], "1"),
        ([Version("1", {"champion": "false"}), Version("2", {"champion": "true"})], "2"),
        ([Version("9", {"champion": "true"}), Version("10", {"champion": "true"})], "10"),  # numeric, not text order
        ([{"version": 3, "tags": {"champion": "TRUE"}}], 3),
    ],
)
def test_select_champion(versions: list, expected: str | None) -> None:
    chosen = select_champion(versions)
    if expected is None:
        assert chosen is None
    else:
        number = chosen["version"] if isinstance(chosen, dict) else chosen.version
        assert number == expected


def test_champion_versions_are_sorted_highest_first() -> None:
    versions = [Version(str(n), {"champion": "true"}) for n in (2, 11, 5)] + [Version("12")]
    assert [v.version for v in champion_versions(versions)] == ["11", "5", "2"]


def test_search_versions_follows_pages() -> None:
    client = FakeClient([Page([Version("1")], token="next"), Page([Version("2")])])
    assert [v.version for v in search_versions(client, "diabetes")] == ["1", "2"]
    assert client.calls == [("name='diabetes'", None), ("name='diabetes'", "next")]


def test_a_missing_registered_model_has_no_versions() -> None:
    client = FakeClient(error=MlflowException("Registered Model with name=x not found", RESOURCE_DOES_NOT_EXIST))
    assert search_versions(client, "x") == []


def test_other_registry_errors_are_raised() -> None:
    client = FakeClient(error=MlflowException("backend unavailable", INTERNAL_ERROR))
    with pytest.raises(MlflowException, match="backend unavailable"):
        search_versions(client, "x")


def test_a_real_registry_client(mlflow_store, model_name: str) -> None:
    """What a caller outside the components does: a plain MlflowClient, versions tagged by hand."""
    client = mlflow_store.client()
    assert select_champion(search_versions(client, model_name)) is None  # not registered yet
    client.create_registered_model(model_name)
    for _ in range(3):
        client.create_model_version(model_name, source=(mlflow_store.root / "none").as_uri())
    client.set_model_version_tag(model_name, "1", "champion", "false")
    client.set_model_version_tag(model_name, "2", "champion", "True")
    versions = search_versions(client, model_name)
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]
    assert str(select_champion(versions).version) == "2"  # this MLflow gives an int: compare as text


def test_model_names_are_checked_before_they_reach_a_filter() -> None:
    assert check_model_name("diabetes-classifier_v1.2") == "diabetes-classifier_v1.2"
    with pytest.raises(DataError, match=r"model_name: .* is not a valid model name"):
        check_model_name("x' OR '1")


@pytest.fixture
def test_split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, LogisticRegression]:
    features = frame[["plasma_glucose", "age"]].astype("float64")
    model = LogisticRegression().fit(features, frame["diabetic"])
    return frame, frame["diabetic"], model


def champion_client() -> FakeClient:
    return FakeClient([Page([Version("1", {"champion": "false"}), Version("2", {"champion": "true"})])])


META = {"task": "classification", "numeric_features": ["plasma_glucose", "age"], "categorical_features": []}


def test_no_champion(test_split: tuple) -> None:
    frame, target, _ = test_split
    result = score_champion(FakeClient(), "m", frame, target, "classification", ([], []), loader=_unused)
    assert (result.version, result.metrics, result.error) == (None, None, None)


def test_champion_is_scored_on_the_same_rows(test_split: tuple) -> None:
    frame, target, model = test_split
    loaded = []

    def loader(name: str, version: str) -> tuple:
        loaded.append((name, version))
        return model, META

    result = score_champion(champion_client(), "m", frame, target, "classification", ([], []), loader=loader)
    assert loaded == [("m", "2")]
    assert result.version == "2" and result.error is None
    assert 0.5 < result.metrics["roc_auc"] <= 1.0


@pytest.mark.parametrize(
    ("loader_result", "fragment"),
    [
        (RuntimeError("artifact missing"), "loading failed (artifact missing)"),
        ("regression-model", "it is a regression model, the candidate is classification"),
        ("needs-other-columns", "scoring the test split failed (test data: missing column(s) 'insulin'"),
    ],
)
def test_unusable_champion_is_a_reason_not_a_crash(test_split: tuple, loader_result: object, fragment: str) -> None:
    frame, target, model = test_split

    def loader(name: str, version: str) -> tuple:
        if isinstance(loader_result, Exception):
            raise loader_result
        if loader_result == "regression-model":
            return model, META | {"task": "regression"}
        return model, META | {"numeric_features": ["insulin"]}

    result = score_champion(champion_client(), "m", frame, target, "classification", ([], []), loader=loader)
    assert result.version == "2" and result.metrics is None
    assert fragment in result.error


def _unused(name: str, version: str) -> tuple:
    raise AssertionError("no champion, nothing to load")
