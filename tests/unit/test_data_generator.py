"""The committed sample data under data/ equals a fresh run of data/generate.py and has the documented
shape, missing values and drift (data/production/drift.json is the single source of truth for the drift)."""

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "data"
PRODUCTION = DATA / "production"
WRITTEN = [
    "diabetes-training/diabetes.csv",
    "diabetes-training/MLTable",
    "production/baseline.csv",
    "production/drifted.csv",
    "production/ground_truth.csv",
    "production/drift.json",
    "diabetes-visits/visits.csv",
    "diabetes-visits/MLTable",
]


def _declared_columns() -> tuple[list[str], set[str]]:
    """The features the training pipeline declares: the data must have exactly these (the consumer's contract)."""
    inputs = yaml.safe_load((DATA.parent / "pipelines" / "train.yml").read_text())["inputs"]
    numeric = inputs["numeric_features"].split(",")
    categorical = inputs["categorical_features"].split(",")
    return [*numeric, *categorical], set(categorical)


FEATURES, CATEGORICAL = _declared_columns()
MISSING = {"serum_insulin": 0.03, "bmi": 0.02, "physical_activity": 0.01}


def _load_generator():
    spec = importlib.util.spec_from_file_location("data_generate", DATA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default-seed")
    assert generator.main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {
        "training": pd.read_csv(DATA / "diabetes-training/diabetes.csv"),
        "baseline": pd.read_csv(PRODUCTION / "baseline.csv"),
        "drifted": pd.read_csv(PRODUCTION / "drifted.csv"),
        "ground_truth": pd.read_csv(PRODUCTION / "ground_truth.csv"),
    }


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((PRODUCTION / "drift.json").read_text(encoding="utf-8"))


def test_generator_writes_exactly_the_committed_files(fresh):
    written = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    assert written == sorted(WRITTEN)


@pytest.mark.parametrize("name", WRITTEN)
def test_committed_file_is_byte_identical_to_a_fresh_generation(fresh, name):
    assert (fresh / name).read_bytes() == (DATA / name).read_bytes(), (
        f"data/{name} differs from a fresh run; regenerate with `.venv/bin/python data/generate.py`"
    )


def test_another_seed_gives_other_data(tmp_path):
    generator.generate(tmp_path, seed=43)
    for name in WRITTEN:
        if name.endswith((".csv", ".json")):
            assert (tmp_path / name).read_bytes() != (DATA / name).read_bytes(), name


def test_shapes_and_columns(frames):
    assert list(frames["training"].columns) == ["patient_id", *FEATURES, "diabetic"]
    assert len(frames["training"]) == 10_000
    for batch in ("baseline", "drifted"):
        assert list(frames[batch].columns) == ["patient_id", *FEATURES], "production files carry no label"
        assert len(frames[batch]) == 2_000
    assert list(frames["ground_truth"].columns) == ["patient_id", "diabetic"]


def test_ids_are_unique_and_ground_truth_covers_production(frames):
    ids = pd.concat([frames[n]["patient_id"] for n in ("training", "baseline", "drifted")])
    assert ids.is_unique
    production_ids = pd.concat([frames["baseline"]["patient_id"], frames["drifted"]["patient_id"]])
    assert frames["ground_truth"]["patient_id"].tolist() == production_ids.tolist()


def test_values_in_range_and_missing_only_where_documented(frames):
    training = frames["training"]
    assert set(training["diabetic"]) == {0, 1}
    assert 0.28 <= training["diabetic"].mean() <= 0.38
    assert training["age"].between(21, 80).all() and training["pregnancies"].between(0, 15).all()
    assert set(training["sex"]) == {"female", "male"}
    assert set(training["smoking_status"]) == {"never", "former", "current"}
    assert set(training["physical_activity"].dropna()) == {"low", "moderate", "high"}
    for name in ("training", "baseline", "drifted"):
        missing = frames[name].isna().mean()
        for column, rate in missing.items():
            if column in MISSING:
                assert MISSING[column] / 2 < rate < MISSING[column] * 2, (name, column, rate)
            else:
                assert rate == 0, (name, column)


def _distance(reference: pd.Series, other: pd.Series, scale: pd.Series) -> float:
    """Numeric: mean difference in units of the training std. Categorical: total variation distance."""
    if reference.name in CATEGORICAL:
        p, q = (s.value_counts(normalize=True) for s in (reference, other))
        return float(p.sub(q, fill_value=0).abs().sum() / 2)
    return float(abs(other.mean() - reference.mean()) / scale.std())


def test_manifest_partitions_the_features(manifest):
    assert manifest["seed"] == 42
    assert sorted([*manifest["drifted_features"], *manifest["unchanged_features"]]) == sorted(FEATURES)
    assert set(manifest["drifted_features"]) == {"plasma_glucose", "bmi", "physical_activity"}
    for key in ("baseline_file", "drifted_file", "ground_truth_file"):
        assert (PRODUCTION / manifest[key]).is_file()


def test_drifted_features_really_drift(frames, manifest):
    training, baseline, drifted = frames["training"], frames["baseline"], frames["drifted"]
    for column in manifest["drifted_features"]:
        scale = training[column]
        noise = _distance(training[column], baseline[column], scale)
        drift = _distance(baseline[column], drifted[column], scale)
        assert noise < 0.05, (column, noise)
        assert drift > 0.25 and drift > 10 * noise, (column, drift, noise)


def test_unchanged_features_do_not_drift(frames, manifest):
    training, drifted = frames["training"], frames["drifted"]
    for column in manifest["unchanged_features"]:
        assert _distance(training[column], drifted[column], training[column]) < 0.08, column


def test_drift_raises_prevalence(frames):
    truth = frames["ground_truth"].set_index("patient_id")["diabetic"]
    baseline = truth.loc[frames["baseline"]["patient_id"]].mean()
    drifted = truth.loc[frames["drifted"]["patient_id"]].mean()
    assert abs(baseline - frames["training"]["diabetic"].mean()) < 0.05
    assert drifted > baseline + 0.1
    assert truth.size == 4_000


def test_visits_are_one_daily_series_with_weekends_lower():
    visits = pd.read_csv(DATA / "diabetes-visits" / "visits.csv", parse_dates=["date"])
    assert list(visits.columns) == ["date", "visits"] and len(visits) == 540
    assert visits["date"].is_unique and (visits["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    weekend = visits["date"].dt.day_of_week >= 5
    assert visits.loc[weekend, "visits"].mean() < 0.6 * visits.loc[~weekend, "visits"].mean()
