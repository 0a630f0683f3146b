"""Bring your own table, end to end, with no hand edits: `mlops init` on a raw file, then `mlops run --model`
(train, gate, register, serve with a smoke test, batch-score, monitor). The held-out window must not breach; a copy
of it with one numeric and one categorical feature shifted must breach data drift on exactly those two.

Three tables shipped inside scikit-learn (no downloads): binary with string labels, multiclass, regression. Each
gets an id column and one categorical column (the breast-cancer and wine tables have none of their own).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from mlops.cli import main

COPIED = ("models", "pipelines", "components", "endpoints", "monitoring", "data", "environments", "templates")


def cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    return frame.assign(diagnosis=np.where(frame.pop("target") == 0, "malignant", "benign"))


def wine() -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame
    return frame.assign(cultivar="cultivar_" + frame.pop("target").astype(str))


def diabetes() -> pd.DataFrame:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return frame.assign(sex=np.where(frame["sex"] == 1, "female", "male"))


# name, table, target, extra flags, (numeric, categorical) feature to shift
# Names no project generated from this template is likely to hold already (its own model may be "wine").
TABLES = {
    "e2e-cancer": (cancer, "diagnosis", ["--sensitive-feature", "site"], ("mean_radius", "site")),
    "e2e-wine": (wine, "cultivar", [], ("alcohol", "site")),
    "e2e-progression": (diabetes, "target", ["--sensitive-feature", "sex"], ("bmi", "sex")),
}


def raw_table(build, folder: Path) -> Path:
    frame = build()
    rng = np.random.default_rng(7)
    if "sex" not in frame.columns:
        frame["site"] = rng.choice(["north", "south"], size=len(frame))
    frame.insert(0, "record_id", np.arange(1, len(frame) + 1))
    path = folder / "raw.csv"
    frame.to_csv(path, index=False)
    return path


def shifted(production: Path, numeric: str, categorical: str, out: Path) -> Path:
    frame = pd.read_csv(production)
    frame[numeric] = frame[numeric] + 3 * frame[numeric].std()
    values = sorted(frame[categorical].dropna().unique())
    frame[categorical] = values[0]  # every row in one category
    frame.to_csv(out, index=False)
    return out


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(TABLES))
def test_a_raw_table_becomes_a_monitored_endpoint(name, repo_root, tmp_path, monkeypatch, capsys):
    build, target, flags, (numeric, categorical) = TABLES[name]
    project = tmp_path / "project"
    for folder in COPIED:
        shutil.copytree(repo_root / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(project))
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(project)
    table = raw_table(build, tmp_path)

    assert main(["init", str(table), "--target", target, "--name", name, *flags]) == 0
    assert main(["validate"]) == 0
    assert main(["run", "--model", name]) == 0
    out = capsys.readouterr().out
    assert f"registered: {name} version 1 (champion)" in out
    assert f"served {name}:1 on 127.0.0.1 (stopped): smoke-tested" in out
    assert f"monitoring ({name}-production): no breach" in out

    predictions = tmp_path / "scored"
    production = shifted(project / "data" / name / "production.csv", numeric, categorical, tmp_path / "shifted.csv")
    assert main(["batch-score", str(production), "--model", name, "--output", str(predictions)]) == 0
    monitor = ["monitor", "--model", name, "--production", str(production), "--window", "shifted"]
    assert main([*monitor, "--predictions", str(predictions / "predictions.csv")]) == 1
    report = json.loads(next((tmp_path / "state" / "monitoring" / name / "shifted").rglob("report.json")).read_text())
    data_drift = next(signal for signal in report["signals"] if signal["name"] == "data_drift")
    assert {f["feature"] for f in data_drift["features"] if f["breached"]} == {numeric, categorical}
