"""The spec layer's references and local catalog: every `azureml:` form parsed once, resolved like the workspace."""

import pytest

from mlops.errors import MlopsError
from mlops.project.layout import Layout
from mlops.project.references import AssetRef, is_asset_ref, is_storage_uri, parse_ref, strip_file_prefix


@pytest.fixture
def catalog(miniproject):
    return Layout(miniproject).catalog


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("azureml:numbers:1", AssetRef("numbers", version="1")),
        ("azureml:numbers@latest", AssetRef("numbers", label="latest")),
        ("azureml:numbers", AssetRef("numbers")),
        ("azureml:diabetes-inference-env:1", AssetRef("diabetes-inference-env", version="1")),
        ("azureml:a.b_c-d:2.0", AssetRef("a.b_c-d", version="2.0")),
        (
            "azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
            AssetRef("sklearn-1.5", label="latest", registry="azureml", kind="environments"),
        ),
        (
            "azureml://registries/prod-reg/models/diabetes-classifier/versions/3",
            AssetRef("diabetes-classifier", version="3", registry="prod-reg", kind="models"),
        ),
    ],
)
def test_every_reference_form_parses_and_prints_back(text, expected):
    parsed = parse_ref(text)
    assert parsed == expected
    assert parse_ref(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["numbers:1", "azureml:", "azureml:-bad:1", "azureml:x:1:2", "azureml:x@"])
def test_malformed_references_name_the_forms_expected(text):
    with pytest.raises(MlopsError, match=r"where: .* is not an asset reference; expected azureml:<name>:<version>"):
        parse_ref(text, where="where")


def test_storage_uris_and_local_paths_are_not_assets():
    assert is_storage_uri("azureml://datastores/workspaceblobstore/paths/x.csv")
    assert not is_asset_ref("azureml://datastores/workspaceblobstore/paths/x.csv")
    assert is_asset_ref("azureml://registries/r/models/m/versions/1")
    assert not is_asset_ref("../data/x.csv")
    assert strip_file_prefix("file:./component.yml") == "./component.yml"


def test_exact_version(catalog, miniproject):
    asset = catalog.data("azureml:numbers:1")
    assert asset.path == miniproject / "data" / "numbers.txt"
    assert asset.type == "uri_file"


@pytest.mark.parametrize("reference", ["azureml:numbers@latest", "azureml:numbers"])
def test_latest_is_the_highest_version(catalog, reference):
    assert catalog.data(reference).version == "2"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("azureml:nothing:1", "no data asset named 'nothing' in data/\\*.yml \\(known: numbers"),
        ("azureml:numbers:7", "has no version 7 \\(defined: 1, 2\\)"),
        ("azureml:numbers@prod", "only the label @latest"),
        ("numbers:1", "not an asset reference"),
        ("azureml://registries/r/data/numbers/versions/1", "registry r is on Azure"),
    ],
)
def test_bad_references_say_what_is_wrong(catalog, reference, message):
    with pytest.raises(MlopsError, match=message):
        catalog.data(reference)


def test_components_and_environments_resolve_from_their_folders(repo_root):
    catalog = Layout(repo_root).catalog
    assert catalog.component("azureml:train_model@latest").file == repo_root / "components" / "train" / "component.yml"
    environment = catalog.environment("azureml:diabetes-inference-env:1")
    assert environment.file.parent == repo_root / "environments" / "inference"
    with pytest.raises(MlopsError, match="no component named 'nope' in components"):
        catalog.component("azureml:nope:1")


def test_repo_data_assets_resolve(repo_root):
    training = Layout(repo_root).catalog.data("azureml:diabetes-training:1")
    assert training.type == "mltable"
    assert (training.path / "MLTable").is_file()


def test_the_default_model_is_the_only_one_or_the_one_marked_default(repo_root, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    sample = (repo_root / "models" / "diabetes-classifier.yml").read_text()
    (models / "diabetes-classifier.yml").write_text(sample)
    assert Layout(tmp_path).model().name == "diabetes-classifier"
    other = sample.replace("name: diabetes-classifier", "name: other").replace("default: true", "default: false")
    (models / "other.yml").write_text(other)
    assert Layout(tmp_path).model().name == "diabetes-classifier"  # two models: the one marked default
    assert Layout(tmp_path).model("other").name == "other"
    (models / "diabetes-classifier.yml").write_text(sample.replace("default: true", "default: false"))
    with pytest.raises(
        MlopsError, match=r"name the model with --model NAME \(defined: diabetes-classifier, other; none"
    ):
        Layout(tmp_path).model()
