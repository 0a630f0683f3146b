"""Generate the deterministic sample data of this template (synthetic diabetes screening).

Writes, under --out (default: this folder):
  diabetes-training/diabetes.csv, diabetes-training/MLTable   10,000 labelled rows
  production/baseline.csv   2,000 unlabelled rows, same distribution as training
  production/drifted.csv    2,000 unlabelled rows, known drift in three features (see DRIFT_DESCRIPTION)
  production/ground_truth.csv, production/drift.json
  diabetes-visits/visits.csv, diabetes-visits/MLTable   daily screening visits (a time series, for forecasting)

Same seed -> byte-identical files. Usage: python data/generate.py [--seed 42] [--out DIR]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = [
    "pregnancies",
    "plasma_glucose",
    "diastolic_bp",
    "triceps_thickness",
    "serum_insulin",
    "bmi",
    "diabetes_pedigree",
    "age",
    "sex",
    "physical_activity",
    "smoking_status",
]
LABEL = "diabetic"
ACTIVITY = np.array(["low", "moderate", "high"])
SMOKING = np.array(["never", "former", "current"])
N_TRAINING, N_BATCH = 10_000, 2_000
ID_START = {"training": 100_000, "baseline": 200_000, "drifted": 300_000}
MISSING_RATE = {"serum_insulin": 0.03, "bmi": 0.02, "physical_activity": 0.01}
GLUCOSE_SHIFT, BMI_SHIFT, DRIFTED_ACTIVITY_MIX = 20.0, 4.0, (0.60, 0.30, 0.10)
DRIFT_DESCRIPTION = {
    "plasma_glucose": f"mean +{GLUCOSE_SHIFT:g}",
    "bmi": f"mean +{BMI_SHIFT:g}",
    "physical_activity": "category mix low/moderate/high = {:.2f}/{:.2f}/{:.2f}".format(*DRIFTED_ACTIVITY_MIX),
}
VISITS_START, VISITS_DAYS = "2025-01-01", 540  # about 18 months of daily counts
MLTABLE = """\
$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json
type: mltable
paths:
  - file: ./{file}
transformations:
  - read_delimited:
      delimiter: ','
      encoding: utf8
      header: all_files_same_headers
"""


def _pick(rng: np.random.Generator, levels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Draw one level per row, row i with probabilities probs[i] (shape n x len(levels))."""
    cumulative = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return levels[(rng.random(len(probs))[:, None] > cumulative).sum(axis=1)]


def make_population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Draw n patients' features (no id, no label, no missing values), rounded as they are stored.

    Sex is not a cause of diabetes here, but it shifts pregnancies (0 for men), activity, smoking,
    blood pressure and skin-fold thickness, so a model's errors can differ by sex.
    """
    male = rng.random(n) < 0.45
    age = np.clip(21 + rng.gamma(2.0, 9.0, n), 21, 80).astype(int)
    older = (age - 40) * 0.004
    low = np.clip(np.where(male, 0.27, 0.33) + older, 0.05, 0.9)
    high = np.clip(np.where(male, 0.28, 0.22) - older, 0.05, 0.9)
    activity = _pick(rng, ACTIVITY, np.column_stack([low, 1 - low - high, high]))
    smoking = _pick(rng, SMOKING, np.where(male[:, None], [0.50, 0.28, 0.22], [0.60, 0.25, 0.15]))
    pregnancies = np.where(male, 0, np.minimum(rng.poisson(np.clip(0.3 + 0.1 * (age - 21), 0.3, 5.0)), 15))
    activity_bmi = pd.Series(activity).map({"low": 2.0, "moderate": 0.0, "high": -2.0}).to_numpy()
    bmi = np.clip(27.5 + activity_bmi + 0.04 * (age - 40) + rng.normal(0, 5.5, n), 16, 60)
    glucose = np.clip(100 + 0.35 * (age - 40) + 0.9 * (bmi - 28) + rng.normal(0, 22, n), 44, 250)
    diastolic = np.clip(70 + 0.25 * (age - 40) + 0.4 * (bmi - 28) + 3 * male + rng.normal(0, 10, n), 30, 125)
    triceps = np.clip(24 + 0.9 * (bmi - 28) + 3 * ~male + rng.normal(0, 6, n), 7, 65)
    log_insulin = 4.4 + 0.008 * (glucose - 100) + 0.02 * (bmi - 28) + rng.normal(0, 0.55, n)
    insulin = np.clip(np.exp(log_insulin), 14, 850)
    pedigree = np.clip(np.exp(rng.normal(np.log(0.38), 0.6, n)), 0.078, 2.5)
    return pd.DataFrame(
        {
            "pregnancies": pregnancies.astype(int),
            "plasma_glucose": glucose.round(1),
            "diastolic_bp": diastolic.round(1),
            "triceps_thickness": triceps.round(1),
            "serum_insulin": insulin.round(1),
            "bmi": bmi.round(1),
            "diabetes_pedigree": pedigree.round(3),
            "age": age,
            "sex": np.where(male, "male", "female"),
            "physical_activity": activity,
            "smoking_status": smoking,
        }
    )


def apply_drift(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return a copy with the documented drift: glucose +20, BMI +4, activity low/moderate/high 60/30/10."""
    out = df.copy()
    out["plasma_glucose"] = (out["plasma_glucose"] + GLUCOSE_SHIFT).round(1)
    out["bmi"] = (out["bmi"] + BMI_SHIFT).round(1)
    out["physical_activity"] = rng.choice(ACTIVITY, size=len(out), p=DRIFTED_ACTIVITY_MIX)
    return out


def diabetes_probability(df: pd.DataFrame) -> np.ndarray:
    """The true logistic model: P(diabetic) from complete (not yet masked) features."""
    logit = (
        -0.55
        + 0.052 * (df["plasma_glucose"] - 110)
        + 0.070 * (df["bmi"] - 29)
        + 0.025 * (df["age"] - 40)
        + 0.900 * np.log(df["diabetes_pedigree"] / 0.38)
        + 0.080 * df["pregnancies"]
        + df["physical_activity"].map({"low": 0.5, "moderate": 0.0, "high": -0.6})
        + 0.25 * (df["smoking_status"] == "current")
    )
    return (1 / (1 + np.exp(-logit))).to_numpy()


def add_missing(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return a copy with values missing completely at random at MISSING_RATE per column."""
    out = df.copy()
    for column, rate in MISSING_RATE.items():
        out.loc[rng.random(len(out)) < rate, column] = np.nan
    return out


def make_batch(rng: np.random.Generator, n: int, first_id: int, drift: bool = False) -> pd.DataFrame:
    """Features, then (optional) drift, then labels from the same model, then missing values; ids first."""
    df = make_population(rng, n)
    if drift:
        df = apply_drift(df, rng)
    label = (rng.random(n) < diabetes_probability(df)).astype(int)
    df = add_missing(df, rng)
    df.insert(0, "patient_id", np.arange(first_id, first_id + n))
    df[LABEL] = label
    return df


def make_visits(rng: np.random.Generator) -> pd.DataFrame:
    """Daily screening visits: a slow upward trend, fewer visits at weekends, a yearly wave, Poisson noise."""
    dates = pd.date_range(VISITS_START, periods=VISITS_DAYS, freq="D")
    day = np.arange(VISITS_DAYS)
    weekly = np.where(dates.day_of_week >= 5, 0.45, 1.0)
    yearly = 1.0 + 0.15 * np.sin(2 * np.pi * (dates.day_of_year.to_numpy() - 30) / 365.25)
    expected = (40.0 + 0.02 * day) * weekly * yearly
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "visits": rng.poisson(expected)})


def generate(out: Path, seed: int = 42) -> list[Path]:
    """Write every data file under out; return their paths (in a fixed order)."""
    # spawn(4)'s first three children are spawn(3)'s: the older files stay byte-identical
    train_rng, baseline_rng, drifted_rng, visits_rng = np.random.default_rng(seed).spawn(4)
    training = make_batch(train_rng, N_TRAINING, ID_START["training"])
    baseline = make_batch(baseline_rng, N_BATCH, ID_START["baseline"])
    drifted = make_batch(drifted_rng, N_BATCH, ID_START["drifted"], drift=True)
    manifest = {
        "seed": seed,
        "baseline_file": "baseline.csv",
        "drifted_file": "drifted.csv",
        "ground_truth_file": "ground_truth.csv",
        "drifted_features": DRIFT_DESCRIPTION,
        "unchanged_features": [f for f in FEATURES if f not in DRIFT_DESCRIPTION],
    }
    for folder in ("diabetes-training", "production", "diabetes-visits"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    csvs = {
        "diabetes-training/diabetes.csv": training,
        "production/baseline.csv": baseline.drop(columns=LABEL),
        "production/drifted.csv": drifted.drop(columns=LABEL),
        "production/ground_truth.csv": pd.concat([baseline, drifted])[["patient_id", LABEL]],
        "diabetes-visits/visits.csv": make_visits(visits_rng),
    }
    for name, df in csvs.items():
        df.to_csv(out / name, index=False, lineterminator="\n")
    for folder, file in (("diabetes-training", "diabetes.csv"), ("diabetes-visits", "visits.csv")):
        (out / folder / "MLTable").write_text(MLTABLE.format(file=file), encoding="utf-8", newline="\n")
    text = json.dumps(manifest, indent=2) + "\n"
    (out / "production/drift.json").write_text(text, encoding="utf-8", newline="\n")
    mltables = ["diabetes-training/MLTable", "diabetes-visits/MLTable"]
    return [out / name for name in [*csvs, *mltables, "production/drift.json"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    for path in generate(args.out, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
