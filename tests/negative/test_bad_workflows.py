"""The workflow checks fail when they should, naming the file, job or step, and only the check that should.

Each fixture in tests/fixtures/workflows/bad/ breaks one rule of tests/contract/test_workflows.py; its local
`uses:` and repository paths resolve against the tiny project in tests/fixtures/workflows/project/. The good
fixture passes every check, so each failure below is the defect's and not the fixture's. check-jsonschema and zizmor
(the two tools of `make workflow-check`) run from .venv-tools on a deliberately bad fixture and on the good one.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "workflows"
PROJECT = FIXTURES / "project"
TOOLS = REPO / ".venv-tools" / "bin"


def load_checks() -> ModuleType:
    """tests/contract/test_workflows.py, under the name pytest gives it (imported once)."""
    name = "test_workflows"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "contract" / "test_workflows.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


checks = load_checks()


def fixture(name: str):
    return checks.load(FIXTURES / name, root=PROJECT)


def problems_by_check(doc) -> dict[str, list[str]]:
    return {check.__name__: check(doc) for check in checks.ALL_CHECKS}


def test_the_good_fixture_passes_every_check():
    found = problems_by_check(fixture("good.yml"))
    assert not any(found.values()), found


# fixture -> {check: [substrings that must appear in its problems]}; every other check must report nothing.
CASES = {
    "unknown-input.yml": {
        "check_reusable_calls": [
            "job deploy calls ./.github/workflows/_callee.yml: input `region` is not declared",
            "input `first_deployment` is declared boolean, got 'yes'",
        ]
    },
    "missing-input.yml": {"check_reusable_calls": ["required input `model` is missing"]},
    "secrets-inherit.yml": {"check_reusable_calls": ["`secrets: inherit` passes every secret"]},
    "unknown-action-input.yml": {
        "check_action_calls": ["job build, step 1 (./.github/actions/setup): input `node-version` is not declared"]
    },
    "missing-action-input.yml": {
        "check_action_calls": ["required input `tenant-id` of ./.github/actions/azure-login is missing"]
    },
    "bad-mlops-command.yml": {
        "check_mlops_commands": [
            "step 1 (port): `mlops serve --port five` does not parse: mlops serve: error: argument --port: invalid "
            "int value: 'five'",
            "step 2 (unknown target): `mlops pipeline run pipelines/train.yml --target aws` does not parse",
            "invalid choice: 'aws'",
        ]
    },
    "missing-path.yml": {
        "check_paths": ["on.push.paths: `infra/**` matches no file", "`pipelines/trian.yml` does not exist"]
    },
    "unpinned-action.yml": {
        "check_pinned_actions": [
            "`actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683` has no version comment",
            "`actions/setup-python@v5` is not pinned to a full 40-hex commit SHA",
        ]
    },
    "no-timeout.yml": {"check_timeouts": ["job build has no timeout-minutes"]},
    "top-level-id-token.yml": {
        "check_top_permissions": ["`id-token: write` at the top level", "must be exactly `contents: read`"]
    },
    "id-token-without-login.yml": {"check_id_token": ["job build: `id-token: write` but it never signs in"]},
    "deploy-without-concurrency.yml": {"check_concurrency": ["job deploy deploys or trains on Azure without"]},
    "secret-login.yml": {
        "check_no_secrets": ["uses `secrets.AZURE_CREDENTIALS`", "azure/login with `creds`"],
        "check_id_token": ["calls azure/login directly"],
    },
    "persisted-credentials.yml": {"check_checkout": ["actions/checkout without `persist-credentials: false`"]},
    "no-rollback.yml": {"check_rollback": ["job shift shifts traffic without an `if: failure()` rollback"]},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_check_catches_its_defect_and_only_it(name):
    expected = CASES[name]
    found = problems_by_check(fixture(f"bad/{name}"))
    for check, substrings in expected.items():
        text = "\n".join(found[check])
        assert found[check], f"{check} found nothing wrong in bad/{name}"
        assert f"bad/{name}" in text, f"{check} does not name the file: {text}"
        for substring in substrings:
            assert substring in text, f"{check} on bad/{name}: {substring!r} not in\n{text}"
    others = {check: problems for check, problems in found.items() if check not in expected and problems}
    assert not others, f"bad/{name} should only break {sorted(expected)}, but also: {others}"


def test_a_missing_callee_or_action_is_reported(tmp_path):
    """Calls to local files that do not exist (a renamed workflow or action) are errors, not skipped."""
    workflow = tmp_path / "calls.yml"
    workflow.write_text(
        "name: Calls\non: workflow_dispatch\npermissions:\n  contents: read\njobs:\n"
        "  a:\n    uses: ./.github/workflows/_renamed.yml\n"
        "  b:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n      - uses: ./.github/actions/gone\n"
    )
    doc = checks.load(workflow, root=PROJECT)
    assert any("_renamed.yml: no such workflow file" in p for p in checks.check_reusable_calls(doc))
    assert any("./.github/actions/gone has no action.yml" in p for p in checks.check_action_calls(doc))


def test_mlops_command_lines_are_found_where_the_shell_runs_them():
    """Pipes, redirections, continuations, `$( … )`, env assignments and expressions; not the word `mlops` as an
    argument."""
    script = (
        'x=$(.venv/bin/mlops promote --model "m:${{ inputs.version }}" --registry r) && echo "$x"\n'
        "FOO=1 mlops run --set a=b >> out.txt\n"
        "grep mlops notes.txt; echo 'mlops deploy'\n"
        ".venv/bin/mlops pipeline run pipelines/train.yml \\\n  --target azure --wait 2>&1 | tee log.txt\n"
    )
    assert checks.mlops_commands(script) == [
        ["promote", "--model", "m:X", "--registry", "r"],
        ["run", "--set", "a=b"],
        ["pipeline", "run", "pipelines/train.yml", "--target", "azure", "--wait"],
    ]


# --- the two tools of `make workflow-check` ------------------------------------------------------------------------

needs_tools = pytest.mark.skipif(
    not (TOOLS / "zizmor").exists() or not (TOOLS / "check-jsonschema").exists(),
    reason=".venv-tools is not built (make workflow-check builds it; make test runs that first)",
)


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60, check=False)


@needs_tools
def test_check_jsonschema_rejects_a_workflow_github_would_reject():
    schema = ("--builtin-schema", "vendor.github-workflows")
    good = run_tool(str(TOOLS / "check-jsonschema"), *schema, str(FIXTURES / "good.yml"))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_tool(str(TOOLS / "check-jsonschema"), *schema, str(FIXTURES / "bad" / "schema-invalid.yml"))
    assert bad.returncode != 0
    assert "schema-invalid.yml" in bad.stdout and "'runs-on' is a required property" in bad.stdout


@needs_tools
def test_zizmor_reports_the_insecure_workflow_and_passes_the_good_one():
    config = ("--offline", "--no-progress", "--config", str(REPO / ".github" / "zizmor.yml"))
    good = run_tool(str(TOOLS / "zizmor"), *config, str(FIXTURES / "good.yml"))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_tool(str(TOOLS / "zizmor"), *config, str(FIXTURES / "bad" / "zizmor-findings.yml"))
    assert bad.returncode != 0
    for audit in ("template-injection", "dangerous-triggers", "unpinned-uses", "artipacked"):
        assert f"[{audit}]" in bad.stdout, f"zizmor did not report {audit}:\n{bad.stdout}"
