"""Fixtures of the endpoint tests: small diabetes models trained once per test process (scoring_scripts.py)."""

from __future__ import annotations

import pytest
from scoring_scripts import Model, train


@pytest.fixture(scope="session")
def diabetes_model(tmp_path_factory) -> Model:
    """Logistic regression on the sample data's features (about a second)."""
    return train(tmp_path_factory.mktemp("diabetes-lr"), "logistic_regression")


@pytest.fixture(scope="session")
def diabetes_forest(tmp_path_factory) -> Model:
    """A small random forest: tree models compute in float32, the reason numbers are bounded."""
    return train(tmp_path_factory.mktemp("diabetes-rf"), "random_forest")
