"""`mlops batch-score` on bad input, through the command's entry point (`mlops.cli.main`, the console script's
function): each case's exit code, the line that names the problem, and what is left in the output folder — nothing
but the worker log, or a complete predictions.csv.

Exit codes (src/mlops/cli/batch_verbs.py): 2 bad input found before scoring, 1 the job failed, 0 it succeeded.
The model is the champion of the shared trained state (tests/conftest.py), scored by the batch deployment's own
script and settings, except for two (`--deployment`, a copy): no retries, which only repeat a file's failure, and
an error_threshold of 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.cli import main
from mlops.targets.local.batch import BatchSettings

# All users of the session-scoped `trained` fixture run in one xdist worker, so it is built once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("trained")]

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT_YAML = REPO / "endpoints" / "batch" / "deployment.yml"
ERROR_THRESHOLD = 1
NONE, COMPLETE = "no predictions file", "complete predictions file"


def production_rows(count: int, start: int = 0) -> pd.DataFrame:
    return pd.read_csv(REPO / "data" / "production" / "baseline.csv").iloc[start : start + count]


def one_file(name: str, write: Callable[[Path], None]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        write(folder / name)
        return folder / name

    return make


def csv_of(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_csv(path, index=False)


def text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content)


def folder_of(files: dict[str, pd.DataFrame]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        inputs = folder / "inputs"
        inputs.mkdir()
        for name, frame in files.items():
            frame.to_csv(inputs / name, index=False)
        return inputs

    return make


def empty_folder(folder: Path) -> Path:
    (folder / "inputs").mkdir()
    return folder / "inputs"


def every_bmi_unreadable() -> pd.DataFrame:
    rows = production_rows(50)
    return rows.assign(bmi="not a number")


HEADER = ",".join(production_rows(1).columns) + "\n"
TOO_MANY = ERROR_THRESHOLD + 1  # failed files: one more than the deployment tolerates
WITHOUT_BMI = production_rows(100, 100).drop(columns=["bmi"])

# case -> (make the input under a folder, exit code, fragment of the message, output folder afterwards, rows)
CASES: dict[str, tuple[Callable[[Path], Path], int, str, str, int]] = {
    "missing column": (one_file("in.csv", csv_of(WITHOUT_BMI)), 2, "in.csv: missing column(s) bmi", NONE, 0),
    "empty file": (one_file("in.csv", text("")), 2, "in.csv: the file is empty", NONE, 0),
    "header only": (one_file("in.csv", text(HEADER)), 2, "in.csv: a header but no data rows", NONE, 0),
    "non-CSV garbage": (
        one_file("in.csv", lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 40)),
        2,
        "in.csv: not a readable CSV file",
        NONE,
        0,
    ),
    "not a table file": (
        one_file("notes.txt", text("a,b\n1,2\n")),
        2,
        "notes.txt: expected a .csv or .parquet",
        NONE,
        0,
    ),
    "folder with no files": (empty_folder, 2, "inputs: the input folder has no files", NONE, 0),
    "file that does not exist": (lambda folder: folder / "absent.csv", 2, "absent.csv: no such file", NONE, 0),
    "all rows bad": (
        one_file("in.csv", csv_of(every_bmi_unreadable())),
        1,
        "no row was scored (1 of 1 file(s) failed); no output written; first failure: mini batch 0 (in.csv)",
        NONE,
        0,
    ),
    "some rows bad, within error_threshold": (
        folder_of({"a.csv": production_rows(100), "b.csv": WITHOUT_BMI, "c.csv": production_rows(100, 200)}),
        0,
        "first failure: mini batch 1 (b.csv)",
        COMPLETE,
        200,
    ),
    "some rows bad, over error_threshold": (
        folder_of(
            {**{f"bad-{i}.csv": WITHOUT_BMI for i in range(TOO_MANY)}, "good.csv": production_rows(100)},
        ),
        1,
        f"{TOO_MANY} failed file(s) exceed error_threshold {ERROR_THRESHOLD}; no output written",
        NONE,
        0,
    ),
}


@pytest.fixture
def trained_project(trained, repo_root, monkeypatch):
    """The repo as the project, the shared trained state as MLOPS_HOME (version 2 is the champion)."""
    results, _ = trained
    monkeypatch.setenv("MLOPS_HOME", str(results["better"].state.root))
    monkeypatch.setenv("MLOPS_PROJECT_ROOT", str(repo_root))
    return results["better"].state.root


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Path:
    """endpoints/batch/deployment.yml with no retries and error_threshold 1, its code folder made absolute."""
    document = yaml.safe_load(DEPLOYMENT_YAML.read_text())
    document["code_configuration"]["code"] = str(DEPLOYMENT_YAML.parent / document["code_configuration"]["code"])
    document["settings"]["retry_settings"]["max_retries"] = 0
    document["settings"]["error_threshold"] = ERROR_THRESHOLD
    path = tmp_path_factory.mktemp("deployment") / "deployment.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    settings = BatchSettings.from_yaml(path)
    assert (settings.max_retries, settings.error_threshold) == (0, ERROR_THRESHOLD)
    assert settings.code_dir == DEPLOYMENT_YAML.parent.parent.resolve()
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_batch_score_bad_input(trained_project, deployment, tmp_path, capsys, case):
    make_input, expected_code, fragment, afterwards, rows = CASES[case]
    source, out = make_input(tmp_path), tmp_path / "out"
    code = main(["batch-score", str(source), "--output", str(out), "--deployment", str(deployment)])
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert code == expected_code, captured.out + captured.err
    if expected_code:
        assert len(errors) == 1 and errors[0].startswith("error: "), captured.err  # one line, no traceback
        assert fragment in errors[0], captured.err
    else:
        assert errors == [] and fragment in captured.out, captured.out + captured.err
    if afterwards == NONE:
        assert files_under(out) == ([] if expected_code == 2 else ["logs/worker.log"])
    else:
        assert files_under(out) == ["logs/worker.log", "predictions.csv"]
        assert len(pd.read_csv(out / "predictions.csv")) == rows
        assert "1 failed (1 file(s))" in captured.out and "100 row(s) failed" in captured.out
