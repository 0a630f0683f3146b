import pytest

from mlops.assets import DataCatalog
from mlops.errors import MlopsError


@pytest.fixture
def catalog(miniproject):
    return DataCatalog.from_folder(miniproject / "data")


def test_exact_version(catalog, miniproject):
    asset = catalog.resolve("azureml:numbers:1")
    assert asset.path == miniproject / "data" / "numbers.txt"
    assert asset.type == "uri_file"


@pytest.mark.parametrize("reference", ["azureml:numbers@latest", "azureml:numbers"])
def test_latest_is_the_highest_version(catalog, reference):
    assert catalog.resolve(reference).version == "2"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("azureml:nothing:1", "no data asset named 'nothing'.*known: numbers"),
        ("azureml:numbers:7", "has no version 7 \\(defined: 1, 2\\)"),
        ("azureml:numbers@prod", "only the label @latest"),
        ("numbers:1", "not a data reference"),
    ],
)
def test_bad_references_say_what_is_wrong(catalog, reference, message):
    with pytest.raises(MlopsError, match=message):
        catalog.resolve(reference)


def test_repo_data_assets_resolve(repo_root):
    catalog = DataCatalog.from_folder(repo_root / "data")
    training = catalog.resolve("azureml:diabetes-training:1")
    assert training.type == "mltable"
    assert (training.path / "MLTable").is_file()
