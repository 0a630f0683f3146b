"""The local batch driver runs endpoints/batch/score.py with Azure batch semantics: mini batches, retries,
timeouts, error_threshold, append_row output written only on success."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from mlops.errors import StepFailed
from mlops.project.layout import Layout, StateDir
from mlops.targets.local import batch
from mlops.targets.local.registry import materialize

REPO = Path(__file__).resolve().parents[2]

# All users of the session-scoped `trained` fixture run in one xdist worker, so it is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]


@pytest.fixture(scope="module")
def model_dir(trained):
    results, _ = trained
    state = results["better"].state
    return materialize(state, Layout(REPO, state.root).catalog.model("diabetes-classifier"))


@pytest.fixture(scope="module")
def settings(repo_root):
    return batch.BatchSettings.from_yaml(repo_root / "endpoints" / "batch" / "deployment.yml")


def quiet(_line):
    pass


def test_settings_come_from_the_deployment_yaml(settings):
    assert (settings.mini_batch_size, settings.output_action, settings.output_file_name) == (
        1,
        "append_row",
        "predictions.csv",
    )
    assert (settings.max_retries, settings.timeout_s, settings.error_threshold) == (3, 300.0, 5)
    assert settings.environment_variables == {"ID_COLUMN": "patient_id"}


def test_materializing_a_version_leaves_mlflows_process_wide_uris_alone(trained, tmp_path):
    """materialize passes its store's URIs; setting them globally sent later clients in the process to that store."""
    results, _ = trained
    state = results["better"].state
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    # a copy without serving/ forces a download (the shared state's copy stays); artifacts stay where they were
    copy = StateDir(tmp_path / "state")
    shutil.copytree(state.root, copy.root, ignore=shutil.ignore_patterns("serving", "runs", "cache"))
    folder = materialize(copy, Layout(REPO, copy.root).catalog.model("diabetes-classifier"))
    assert (folder / "model" / "MLmodel").is_file()
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == before


def test_batch_output_equals_direct_predict_on_the_same_rows(repo_root, settings, model_dir, tmp_path):
    source = repo_root / "data" / "production" / "drifted.csv"
    summary = batch.invoke(settings, model_dir, source, tmp_path / "out", tmp_path / "worker.log", echo=quiet)
    output = pd.read_csv(summary.output)
    folder = next(model_dir.rglob("MLmodel")).parent
    model = mlflow.sklearn.load_model(str(folder))
    features = mlflow.models.Model.load(str(folder)).signature.inputs.input_names()
    rows = pd.read_csv(source)
    assert output["patient_id"].tolist() == rows["patient_id"].tolist()
    assert output["prediction"].tolist() == model.predict(rows[features]).tolist()
    assert (
        output["probability"].round(6).tolist()
        == pd.Series(model.predict_proba(rows[features])[:, 1]).round(6).tolist()
    )
    assert set(output["model_name"]) == {"diabetes-classifier"} and set(output["model_version"]) == {2}
    assert {"scored_at", "source_file"} <= set(output.columns)
    assert (summary.succeeded, summary.failed, summary.rows) == (1, 0, len(rows))


@pytest.fixture
def mixed_folder(repo_root, tmp_path):
    """Three files of 100 rows; the middle one lacks a feature column, so every attempt at it fails."""
    rows = pd.read_csv(repo_root / "data" / "production" / "baseline.csv")
    folder = tmp_path / "inputs"
    folder.mkdir()
    rows.iloc[:100].to_csv(folder / "a.csv", index=False)
    rows.iloc[100:200].drop(columns=["bmi"]).to_csv(folder / "b.csv", index=False)
    rows.iloc[200:300].to_csv(folder / "c.csv", index=False)
    return folder


def test_failed_mini_batch_is_retried_then_tolerated_within_the_error_threshold(
    settings, model_dir, mixed_folder, tmp_path
):
    tolerant = dataclasses.replace(settings, max_retries=1, error_threshold=1)
    summary = batch.invoke(tolerant, model_dir, mixed_folder, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    assert (summary.succeeded, summary.failed, summary.retries, summary.rows) == (2, 1, 1, 200)
    assert "b.csv" in summary.errors[0] and "bmi" in summary.errors[0]
    assert pd.read_csv(summary.output)["source_file"].unique().tolist() == ["a.csv", "c.csv"]


def test_failures_beyond_the_error_threshold_fail_the_job_and_write_no_output(
    settings, model_dir, mixed_folder, tmp_path
):
    strict = dataclasses.replace(settings, max_retries=0, error_threshold=0)
    with pytest.raises(StepFailed, match="exceed error_threshold 0; no output written"):
        batch.invoke(strict, model_dir, mixed_folder, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    assert not (tmp_path / "out" / "predictions.csv").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no half-written files either


def test_error_threshold_minus_one_ignores_all_failures(settings, model_dir, mixed_folder, tmp_path):
    lenient = dataclasses.replace(settings, max_retries=0, error_threshold=-1)
    summary = batch.invoke(lenient, model_dir, mixed_folder, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    assert (summary.failed, summary.rows) == (1, 200)


@pytest.mark.parametrize(
    "content",
    ["patient_id,bmi\n", "", "not,the,columns\n1,2,3\n"],
    ids=["header only", "empty file", "missing columns"],
)
def test_a_batch_that_scores_nothing_fails_and_writes_nothing(settings, model_dir, tmp_path, content):
    """Within the error threshold Azure's job would succeed with an empty file; here it fails, with no output."""
    source = tmp_path / "in.csv"
    source.write_text(content)
    tolerant = dataclasses.replace(settings, max_retries=0, error_threshold=-1)
    with pytest.raises(StepFailed, match=r"no row was scored \(1 of 1 file\(s\) failed\); no output written"):
        batch.invoke(tolerant, model_dir, source, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def trivial_script(folder: Path) -> Path:
    """A scoring script that needs no model: a file named *slow* hangs, one named *bad* fails."""
    code = folder / "code"
    code.mkdir()
    (code / "score.py").write_text(
        "import time\nfrom pathlib import Path\nimport pandas as pd\n\n"
        "def init():\n    pass\n\n"
        "def run(mini_batch):\n"
        "    if any('slow' in Path(p).name for p in mini_batch):\n        time.sleep(60)\n"
        "    if any('bad' in Path(p).name for p in mini_batch):\n        raise ValueError('a bad file')\n"
        "    return pd.DataFrame({'file': [Path(p).name for p in mini_batch]})\n"
    )
    return code


def test_error_threshold_counts_failed_files_not_mini_batches(settings, tmp_path):
    """Azure: for file inputs error_threshold is a count of failed files; a failed mini batch fails all its files."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("1-bad.csv", "2-good.csv", "3-good.csv"):
        (inputs / name).write_text("x\n1\n")
    two_per_batch = dataclasses.replace(
        settings, code_dir=trivial_script(tmp_path), scoring_script="score.py", mini_batch_size=2, max_retries=0
    )
    out = tmp_path / "out"
    with pytest.raises(StepFailed, match=r"2 failed file\(s\) exceed error_threshold 1; no output written"):
        batch.invoke(dataclasses.replace(two_per_batch, error_threshold=1), tmp_path, inputs, out, out / "w.log", quiet)
    assert [p.name for p in out.iterdir()] == ["w.log"]
    summary = batch.invoke(
        dataclasses.replace(two_per_batch, error_threshold=2), tmp_path, inputs, out, out / "w.log", quiet
    )
    assert (summary.failed, summary.failed_files, summary.rows) == (1, 2, 1)
    assert pd.read_csv(summary.output)["file"].tolist() == ["3-good.csv"]


def test_summary_only_counts_the_rows_and_writes_no_output(settings, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("1-good.csv", "2-good.csv"):
        (inputs / name).write_text("x\n1\n")
    counted = dataclasses.replace(
        settings, code_dir=trivial_script(tmp_path), scoring_script="score.py", output_action="summary_only"
    )
    out = tmp_path / "out"
    summary = batch.invoke(counted, tmp_path, inputs, out, out / "w.log", echo=quiet)
    assert (summary.succeeded, summary.rows, summary.output) == (2, 2, None)
    assert [p.name for p in out.iterdir()] == ["w.log"]


def test_progress_counts_files_and_rows_on_stderr(settings, tmp_path, monkeypatch, capsys):
    """Not a terminal: plain lines, the first when scoring starts and a last one with the counts (a short job shows
    none: PROGRESS_DELAY_S, set to 0 here)."""
    monkeypatch.setattr(batch, "PROGRESS_DELAY_S", 0.0)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("1-good.csv", "2-bad.csv", "3-good.csv"):
        (inputs / name).write_text("x\n1\n")
    lenient = dataclasses.replace(
        settings, code_dir=trivial_script(tmp_path), scoring_script="score.py", max_retries=0, error_threshold=-1
    )
    batch.invoke(lenient, tmp_path, inputs, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("batch scoring: 0/3 files, ") and "\r" not in "".join(lines)
    assert lines[-1].startswith("batch scoring: 3/3 files in ") and lines[-1].endswith(", 2 rows scored, 1 failed")


def test_a_hung_mini_batch_times_out_and_the_worker_is_restarted(settings, model_dir, tmp_path):
    code = trivial_script(tmp_path)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("1-fast.csv", "2-slow.csv", "3-fast.csv"):
        (inputs / name).write_text("x\n1\n")
    hanging = dataclasses.replace(settings, code_dir=code, scoring_script="score.py", timeout_s=1.0, max_retries=0)
    summary = batch.invoke(hanging, model_dir, inputs, tmp_path / "out", tmp_path / "w.log", echo=quiet)
    assert (summary.succeeded, summary.failed) == (2, 1)
    assert "no result within the 1s timeout" in summary.errors[0]
    assert pd.read_csv(summary.output)["file"].tolist() == ["1-fast.csv", "3-fast.csv"]


def test_init_failure_is_reported_once_with_its_reason(settings, tmp_path):
    empty_model_dir = tmp_path / "azureml-models" / "m" / "1"
    empty_model_dir.mkdir(parents=True)
    source = tmp_path / "one.csv"
    source.write_text("x\n1\n")
    with pytest.raises(StepFailed, match="init\\(\\) failed: RuntimeError: no MLflow model"):
        batch.invoke(settings, empty_model_dir, source, tmp_path / "out", tmp_path / "w.log", echo=quiet)


def test_scoring_code_cannot_import_the_project_package(settings, model_dir, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text("import mlops\n\ndef init():\n    pass\n\ndef run(mini_batch):\n    return []\n")
    source = tmp_path / "one.csv"
    source.write_text("x\n1\n")
    guarded = dataclasses.replace(settings, code_dir=code, scoring_script="score.py")
    with pytest.raises(StepFailed, match="No module named 'mlops'"):
        batch.invoke(guarded, model_dir, source, tmp_path / "out", tmp_path / "w.log", echo=quiet)


def test_each_input_file_is_read_as_the_scoring_script_would(tmp_path):
    columns = ["a", "b", "id"]
    cases = {
        "ok.csv": ("a,b,id\n1,2,3\n4,5,6\n", 2, None),
        "empty.csv": ("", 0, "the file is empty"),
        "blank.csv": ("\n\n", 0, "the file is empty"),
        "header.csv": ("a,b,id\n", 0, "a header but no data rows"),
        "missing.csv": ("a,id\n1,3\n", 1, "missing column(s) b (the model scores a, b, id)"),
        "notes.txt": ("a,b,id\n1,2,3\n", None, "expected a .csv or .parquet file, got '.txt'"),
        "garbage.parquet": ("not parquet at all", None, "not a readable parquet file: "),
    }
    for name, (content, rows, problem) in cases.items():
        (tmp_path / name).write_text(content)
        found = batch.inspect_file(tmp_path / name, columns)
        assert found.rows == rows, name
        assert (found.problem is None) if problem is None else found.problem.startswith(problem), (name, found)
    good, bad = tmp_path / "ok.csv", tmp_path / "header.csv"
    assert [f.problem for f in batch.inspect_inputs([bad, good], columns)] == ["a header but no data rows", None]
    with pytest.raises(batch.MlopsError, match=r"header.csv: a header but no data rows; nothing was scored \(1 other"):
        batch.inspect_inputs([bad, tmp_path / "empty.csv"], columns)


def test_input_checks(tmp_path):
    with pytest.raises(batch.MlopsError, match="no such file or folder"):
        batch.input_files(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(batch.MlopsError, match="has no files"):
        batch.input_files(tmp_path / "empty")
    assert batch.mini_batches([Path("a"), Path("b"), Path("c")], 2) == [[Path("a"), Path("b")], [Path("c")]]
