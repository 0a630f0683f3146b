"""The project generator (copier.yml + templates/project/customize.py) renders working projects.

Each render copies this working tree (committed or not: a throwaway git repository of it is the template) with
`.venv-copier/bin/copier copy --trust --defaults --data ...`, for a binary table with string labels, a multiclass
table and a regression table (scikit-learn's shipped datasets), each with and without a sensitive feature. The
task's `mlops init` runs with this test's Python (MLOPS_PYTHON), so no venv is built per render. On each render:
`mlops validate` passes, no template marker is left, the answers landed, and the render's own workflow contract
tests (tests/contract/test_workflows.py, which resolve everything against the file's project) pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COPIER = REPO / ".venv-copier" / "bin" / "copier"
MLOPS = [sys.executable, "-c", "import sys; from mlops.cli import main; sys.exit(main(sys.argv[1:]))"]

pytestmark = pytest.mark.skipif(
    not COPIER.exists(), reason="no .venv-copier: `make .venv-copier/.installed-from-lock` (make test builds it)"
)

QUESTIONS = ("project_name", "resource_prefix", "azure_region", "model_table", "model_target", "model_name")
# A Jinja marker that is not Azure's / GitHub's `${{ ... }}` binding, or a question inside copier's old `[[ ]]`
# delimiters (a bare `[[` is Python's list of lists or a shell test).
MARKER = re.compile(r"(?<!\$)\{\{|\{%|\[\[\s*(?:" + "|".join(QUESTIONS) + r"|_copier\w*)\b")
# Files that are Jinja templates of the project itself (mlops renders them), or describe them.
MARKERS_ALLOWED = ("templates/model/", "templates/README.md", "tests/unit/test_model_templates.py", "src/")


def _snake(name: str) -> str:
    return re.sub(r"\W+", "_", name.strip()).strip("_").lower()


def _write_tables(folder: Path) -> dict[str, Path]:
    """binary: breast cancer, labels 'malignant'/'benign'; multiclass: wine, string cultivars; regression: diabetes,
    `sex` as strings. Each gets an id column. The binary and multiclass tables have no categorical column, so a
    banded copy of one measurement (three groups of ~equal size) is their sensitive feature."""
    import pandas as pd
    from sklearn import datasets

    tables = {}
    cancer = datasets.load_breast_cancer(as_frame=True)
    frame = cancer.data.rename(columns=_snake)
    frame["radius_band"] = pd.qcut(frame["mean_radius"], 3, labels=["small", "medium", "large"]).astype(str)
    frame["diagnosis"] = cancer.target.map({0: "malignant", 1: "benign"})
    tables["binary"] = frame

    wine = datasets.load_wine(as_frame=True)
    frame = wine.data.rename(columns=_snake)
    frame["alcohol_band"] = pd.qcut(frame["alcohol"], 3, labels=["low", "mid", "high"]).astype(str)
    frame["cultivar"] = wine.target.map({0: "barolo", 1: "grignolino", 2: "barbera"})
    tables["multiclass"] = frame

    diabetes = datasets.load_diabetes(as_frame=True, scaled=False)
    frame = diabetes.data.rename(columns=_snake)
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"})
    frame["progression"] = diabetes.target
    tables["regression"] = frame

    paths = {}
    for kind, frame in tables.items():
        frame.insert(0, "record_id", [f"r{i:05d}" for i in range(len(frame))])
        paths[kind] = folder / f"{kind}.csv"
        frame.to_csv(paths[kind], index=False)
    return paths


CASES = {
    "binary": {"target": "diagnosis", "name": "cancer-clf", "sensitive": "radius_band"},
    "multiclass": {"target": "cultivar", "name": "wine-clf", "sensitive": "alcohol_band"},
    "regression": {"target": "progression", "name": "progression-reg", "sensitive": "sex"},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding this working tree (tracked and untracked, not ignored files), committed once."""
    root = tmp_path_factory.mktemp("template") / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "template"], cwd=root, check=True)
    return root


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _write_tables(tmp_path_factory.mktemp("tables"))


def render(template: Path, destination: Path, **answers: str) -> subprocess.CompletedProcess[str]:
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    env = {key: value for key, value in os.environ.items() if key not in ("MLOPS_PROJECT_ROOT", "MLOPS_HOME")}
    env["MLOPS_PYTHON"] = sys.executable
    command = [str(COPIER), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", *data]
    return subprocess.run(
        [*command, str(template), str(destination)], env=env, capture_output=True, text=True, timeout=240
    )


def project_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("MLOPS_PROJECT_ROOT", "MLOPS_HOME")}


def leftover_markers(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".mlops" not in p.parts):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(MARKERS_ALLOWED) or relative == "tests/contract/test_project_template.py":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if MARKER.search(line):
                found.append(f"{relative}:{number}: {line.strip()[:100]}")
    return found


@pytest.mark.parametrize("sensitive", [False, True], ids=["plain", "sensitive"])
@pytest.mark.parametrize("kind", list(CASES))
def test_a_render_with_a_model_validates_and_passes_the_workflow_contract(template, tables, tmp_path, kind, sensitive):
    case = CASES[kind]
    project = tmp_path / "project"
    answers = {
        "project_name": f"churn-{kind}",
        "resource_prefix": "acme1",
        "azure_region": "swedencentral",
        "model_table": str(tables[kind]),
        "model_target": case["target"],
        "model_name": case["name"],
    }
    if sensitive:
        answers["model_sensitive_feature"] = case["sensitive"]
    result = render(template, project, **answers)
    assert result.returncode == 0, f"copier copy failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    # The answers landed.
    assert f'name = "churn-{kind}"' in (project / "pyproject.toml").read_text()
    assert (project / "README.md").read_text().startswith(f"# churn-{kind}\n")
    for env_name in ("dev", "prod"):
        params = (project / "infra" / f"{env_name}.bicepparam").read_text()
        assert "param prefix = 'acme1'" in params and "param location = 'swedencentral'" in params
    assert "rg-acme1-dev" in (project / "infra" / "README.md").read_text()
    assert "az group create -n rg-acme1-dev -l swedencentral" in (project / "docs" / "github-actions.md").read_text()
    assert "location: swedencentral" in (project / "infra" / "azureml" / "registry.yml").read_text()
    assert f"  project: churn-{kind}\n" in (project / "monitoring" / "monitor.yml").read_text()
    assert not (project / "tests" / "contract" / "test_project_template.py").exists()  # a render is no template
    answers_file = (project / ".copier-answers.yml").read_text()
    assert "resource_prefix: acme1" in answers_file and f"model_name: {case['name']}" in answers_file
    assert not (project / "copier.yml").exists()
    assert not list(project.glob("*.jinja"))

    # The model landed beside the sample, with its sensitive feature when asked.
    definition = (project / "models" / f"{case['name']}.yml").read_text()
    assert f"target: {case['target']}" in definition
    assert (f"sensitive_feature: {case['sensitive']}" in definition) is sensitive
    assert (project / "models" / "diabetes-classifier.yml").is_file()

    assert leftover_markers(project) == []

    validate = subprocess.run(
        [*MLOPS, "validate"], cwd=project, env=project_env(), capture_output=True, text=True, timeout=180
    )
    assert validate.returncode == 0, f"mlops validate failed:\n{validate.stdout[-3000:]}\n{validate.stderr[-3000:]}"

    workflows = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/contract/test_workflows.py"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert workflows.returncode == 0, f"workflow contract tests failed on the render:\n{workflows.stdout[-3000:]}"


def test_the_defaults_render_the_sample_project(template, tmp_path):
    project = tmp_path / "project"
    result = render(template, project)
    assert result.returncode == 0, f"copier copy failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    for name in ("pyproject.toml", "README.md", "models/diabetes-classifier.yml", "pipelines/train.yml"):
        assert (project / name).read_text() == (template / name).read_text(), name
    assert "param location = 'westeurope'" in (project / "infra" / "dev.bicepparam").read_text()
    assert leftover_markers(project) == []


def test_a_drifted_template_fails_loudly_and_writes_nothing(tmp_path):
    from importlib import util

    spec = util.spec_from_file_location("customize", REPO / "templates" / "project" / "customize.py")
    customize = util.module_from_spec(spec)
    sys.modules["customize"] = customize
    spec.loader.exec_module(customize)
    for name in (
        "pyproject.toml",
        "README.md",
        "infra/README.md",
        "docs/github-actions.md",
        "infra/azureml/registry.yml",
        "monitoring/monitor.yml",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tmp_path / name)
    for name in customize.PARAM_FILES:
        shutil.copy2(REPO / name, tmp_path / name)
    dev = tmp_path / "infra" / "dev.bicepparam"
    dev.write_text(dev.read_text().replace("param prefix = 'mlops'", "param prefix = 'MLOPS'"))
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    argv = ["--root", str(tmp_path), "--project-name", "x-y", "--resource-prefix", "abc", "--azure-region", "eastus2"]
    assert customize.main(argv) == 1
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == before

    dev.write_text(before[dev].replace("param prefix = 'MLOPS'", "param prefix = 'mlops'"))
    assert customize.main(argv) == 0
    assert "param prefix = 'abc'\n" in dev.read_text() and "param location = 'eastus2'\n" in dev.read_text()
    once = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert customize.main(argv) == 0  # rerun by `copier update`: nothing left to change, nothing refused
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == once
