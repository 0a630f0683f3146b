"""The workflow checks fail when they should, naming the file, job or step, and only the check that should.

Each fixture in tests/fixtures/workflows/bad/ breaks one rule of tests/contract/test_workflows.py; its local
`uses:` and repository paths resolve against the tiny project in tests/fixtures/workflows/project/. The good
fixture passes every check, so each failure below is the defect's and not the fixture's. check-jsonschema and zizmor
(the two tools of `make workflow-check`) run from .venv-tools on a deliberately bad fixture and on the good one.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from scripts import load_script

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "workflows"
PROJECT = FIXTURES / "project"
TOOLS = REPO / ".venv-tools" / "bin"


# tests/contract/test_workflows.py, under the name pytest gives it (imported once).
checks = load_script(REPO / "tests" / "contract" / "test_workflows.py")


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
            "`actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1` has no version comment",
            "`actions/setup-python@v7` is not pinned to a full 40-hex commit SHA",
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


# --- the pins table (tests/contract/test_action_pins.py) ----------------------------------------------------------

pins = load_script(REPO / "tests" / "contract" / "test_action_pins.py")


def test_the_good_fixture_uses_only_pinned_releases():
    assert not pins.check_action_pins(fixture("good.yml"), pins.TABLE)


# fixture -> substrings check_action_pins must report, against the repository's table; every check of
# test_workflows.py passes on these fixtures: only the table knows what is wrong with them.
PIN_CASES = {
    "node20-pin.yml": [
        "bad/node20-pin.yml:14: job build, step 1 (Check out): "
        "`actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2` is not the pinned release: "
        "row `actions/checkout` of .github/action-pins.yml (now v7.0.1 3d3c42e5aac5ba805825da76410c181273ba90b1",
        "update that row's version, sha, runtime and inputs",
    ],
    "undeclared-action-input.yml": [
        "bad/undeclared-action-input.yml:18: job build, step 2 (Upload the reports): input `include-hidden` is not "
        "declared by actions/upload-artifact v7.0.0",
        "add it to row `actions/upload-artifact` of .github/action-pins.yml",
    ],
}


@pytest.mark.parametrize("name", sorted(PIN_CASES))
def test_the_pins_check_catches_what_the_workflow_checks_cannot(name):
    doc = fixture(f"bad/{name}")
    others = {check: problems for check, problems in problems_by_check(doc).items() if problems}
    assert not others, f"bad/{name} should only break the pins check, but also: {others}"
    text = "\n".join(pins.check_action_pins(doc, pins.TABLE))
    for substring in PIN_CASES[name]:
        assert substring in text, f"check_action_pins on bad/{name}: {substring!r} not in\n{text}"


def test_a_node20_row_fails_the_table_and_every_use_of_it():
    """Had the table kept checkout v4.2.2 (node20), the table check and the use both fail, naming the row."""
    old = dataclasses.replace(
        pins.TABLE.rows["actions/checkout"],
        version="v4.2.2",
        sha="11bd71901bbe5b1630ceea73d27597364c9af683",
        runtime="node20",
    )
    table = pins.Table(pins.TABLE.name, {**pins.TABLE.rows, old.action: old})
    row = "row `actions/checkout` of .github/action-pins.yml (now v4.2.2 11bd71901bbe5b1630ceea73d27597364c9af683"
    assert [p for p in pins.check_table(table) if row in p and "runtime node20 is no longer supported" in p]
    problems = pins.check_action_pins(fixture("bad/node20-pin.yml"), table)
    assert len(problems) == 1 and "runs on node20, which GitHub-hosted runners no longer run" in problems[0]
    assert "bad/node20-pin.yml:14: job build, step 1 (Check out)" in problems[0] and row in problems[0]


def test_an_action_without_a_row_is_reported(tmp_path):
    workflow = tmp_path / "unlisted.yml"
    workflow.write_text(
        "name: Unlisted\non: workflow_dispatch\npermissions:\n  contents: read\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n"
        "      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0\n"
    )
    problems = pins.check_action_pins(checks.load(workflow, root=PROJECT), pins.TABLE)
    assert len(problems) == 1 and "`actions/setup-node` has no row in .github/action-pins.yml" in problems[0]


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
