"""The GitHub Actions workflows are wired right: checked offline over the parsed YAML of .github/.

`make workflow-check` runs GitHub's schemas (check-jsonschema) and zizmor over the same files; these checks cover
what neither knows about this repo:

- every call of a reusable workflow (`uses: ./.github/workflows/x.yml`) passes exactly the inputs and secrets the
  callee declares, and every call of a composite action (`uses: ./.github/actions/x`) only inputs it declares and
  all the required ones;
- every `mlops …` command line in a `run:` step parses with the real CLI parser (`mlops.cli.build_parser`);
- every repository path a workflow names exists (`paths:` filters are globs that match at least one file);
- third-party actions are pinned to a 40-hex commit SHA with the version in a comment;
- permissions: `contents: read` at the top, `id-token: write` only on jobs that sign in through the azure-login
  action (or call a workflow whose jobs do), no secrets and no secret-based login anywhere;
- every job has `timeout-minutes` (jobs that call a reusable workflow cannot: GitHub rejects the key there, and the
  callee's jobs are checked instead), deploying jobs have a concurrency group, checkouts do not persist credentials,
  a rollout that shifts traffic rolls back on failure.

Each check is a function from a parsed file (`Doc`) to a list of problems naming the file, job and step, so
tests/negative/test_bad_workflows.py runs the same functions on broken fixtures.
"""

from __future__ import annotations

import contextlib
import glob
import io
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / ".github"
AZURE_LOGIN = "./.github/actions/azure-login"
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\b")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*[\"']?(?P<ref>[^\s\"'#]+)[\"']?\s*(?P<comment>#.*)?$")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
PLACEHOLDER = "X"
SHELL_OPERATOR = set("();<>|&")
COMMAND_PREFIXES = {"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec"}
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
# Jobs that change something on Azure: they need a concurrency group so two of them never race.
DEPLOYING = re.compile(
    r"\baz deployment group create\b|\bmlops (deploy|promote)\b|\bmlops pipeline run\b[^\n]*--target azure"
)
PATH_SUFFIXES = {".yml", ".yaml", ".json", ".bicep", ".bicepparam", ".py", ".txt", ".md", ".csv", ".in", ".toml"}


@dataclass(frozen=True)
class Doc:
    """A workflow or composite action file: its parsed YAML, its text (comments matter for pins) and the project
    root its local `uses:` and repository paths resolve against."""

    path: Path
    data: dict[str, Any]
    text: str
    root: Path

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO)) if self.path.is_relative_to(REPO) else str(self.path)

    @property
    def is_action(self) -> bool:
        return "runs" in self.data


def load(path: Path, root: Path = REPO) -> Doc:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise AssertionError(f"{path}: not a YAML mapping")
    return Doc(path, data, text, root)


def triggers(data: dict[str, Any]) -> dict[str, Any]:
    """`on:` as a mapping (PyYAML reads the bare key `on` as True)."""
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def jobs(doc: Doc) -> dict[str, dict[str, Any]]:
    return {} if doc.is_action else (doc.data.get("jobs") or {})


def steps(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, step) for every step of every job, or of the composite action."""
    if doc.is_action:
        for number, step in enumerate(doc.data["runs"].get("steps") or [], start=1):
            yield f"step {number} ({step.get('name', step.get('uses', 'run'))})", step
        return
    for job_id, job in jobs(doc).items():
        for number, step in enumerate(job.get("steps") or [], start=1):
            yield f"job {job_id}, step {number} ({step.get('name', step.get('uses', 'run'))})", step


def job_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps") or []


def local_workflow(doc: Doc, uses: str) -> Path:
    return doc.root / uses.removeprefix("./")


def local_action(doc: Doc, uses: str) -> Path | None:
    folder = doc.root / uses.removeprefix("./")
    return next((folder / name for name in ("action.yml", "action.yaml") if (folder / name).is_file()), None)


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and bool(EXPRESSION.search(value))


# --- calls: reusable workflows and composite actions -------------------------------------------------------------


def check_reusable_calls(doc: Doc) -> list[str]:
    problems = []
    for job_id, job in jobs(doc).items():
        uses = job.get("uses")
        if not isinstance(uses, str) or not uses.startswith("./"):
            continue
        where = f"{doc.name}: job {job_id} calls {uses}"
        callee_path = local_workflow(doc, uses)
        if not callee_path.is_file():
            problems.append(f"{where}: no such workflow file")
            continue
        call = triggers(load(callee_path, doc.root).data)
        if "workflow_call" not in call:
            problems.append(f"{where}: the callee has no `on: workflow_call`")
            continue
        declared = (call["workflow_call"] or {}).get("inputs") or {}
        given = job.get("with") or {}
        for name in sorted(set(given) - set(declared)):
            problems.append(f"{where}: input `{name}` is not declared by the callee ({', '.join(declared) or 'none'})")
        for name, spec in declared.items():
            spec = spec or {}
            if spec.get("required") and "default" not in spec and name not in given:
                problems.append(f"{where}: required input `{name}` is missing")
            if name in given and not is_expression(given[name]):
                wanted = {"boolean": bool, "number": (int, float), "string": str}.get(spec.get("type", "string"))
                if wanted and not isinstance(given[name], wanted):
                    problems.append(f"{where}: input `{name}` is declared {spec.get('type')}, got {given[name]!r}")
        declared_secrets = (call["workflow_call"] or {}).get("secrets") or {}
        passed = job.get("secrets") or {}
        if passed == "inherit":
            problems.append(f"{where}: `secrets: inherit` passes every secret; pass the declared ones by name")
            continue
        for name in sorted(set(passed) - set(declared_secrets)):
            problems.append(f"{where}: secret `{name}` is not declared by the callee")
        for name, spec in declared_secrets.items():
            if (spec or {}).get("required") and name not in passed:
                problems.append(f"{where}: required secret `{name}` is missing")
    return problems


def check_action_calls(doc: Doc) -> list[str]:
    problems = []
    for where, step in steps(doc):
        uses = step.get("uses")
        if not isinstance(uses, str) or not uses.startswith("./"):
            continue
        action_file = local_action(doc, uses)
        if action_file is None:
            problems.append(f"{doc.name}: {where}: {uses} has no action.yml")
            continue
        declared = load(action_file, doc.root).data.get("inputs") or {}
        given = step.get("with") or {}
        for name in sorted(set(given) - set(declared)):
            problems.append(
                f"{doc.name}: {where}: input `{name}` is not declared by {uses} ({', '.join(declared) or 'none'})"
            )
        for name, spec in declared.items():
            spec = spec or {}
            if spec.get("required") and "default" not in spec and name not in given:
                problems.append(f"{doc.name}: {where}: required input `{name}` of {uses} is missing")
    return problems


# --- mlops command lines -----------------------------------------------------------------------------------------


def mlops_commands(script: str) -> list[list[str]]:
    """The argument lists of every `mlops` (or `.venv/bin/mlops`) command in a shell script, with `${{ … }}`
    expressions replaced by a placeholder. Stops at pipes, redirections, `;`, `&&` and `)`."""
    script = EXPRESSION.sub(PLACEHOLDER, script.replace("\\\n", " "))
    commands = []
    for line in script.splitlines():
        if "mlops" not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        at_start, current = True, None
        for token in tokens:
            is_operator = set(token) <= SHELL_OPERATOR
            if current is not None:
                if is_operator:
                    if token[0] in "<>" and current and current[-1].isdigit():
                        current.pop()  # the file descriptor of a redirection such as 2>&1
                    commands.append(current)
                    current = None
                else:
                    current.append(token)
                    continue
            if is_operator:
                at_start = True
            elif at_start and (token in COMMAND_PREFIXES or ASSIGNMENT.match(token)):
                continue
            elif at_start and Path(token).name == "mlops":
                current = []
            else:
                at_start = False
        if current is not None:
            commands.append(current)
    return commands


def build_parser() -> Any:
    """The real CLI parser (`mlops.cli.build_parser`), imported when first needed: the other checks read YAML only,
    so the pins and permissions checks (and tests/contract/test_action_pins.py) run even while the package does
    not import."""
    from mlops.cli import build_parser as cli_parser

    return cli_parser()


def check_mlops_commands(doc: Doc, parser_factory: Callable[[], Any] = build_parser) -> list[str]:
    problems = []
    for where, step in steps(doc):
        script = step.get("run")
        if not isinstance(script, str):
            continue
        try:
            commands = mlops_commands(script)
        except ValueError as exc:  # unbalanced quotes
            problems.append(f"{doc.name}: {where}: cannot split the script: {exc}")
            continue
        for args in commands:
            errors = io.StringIO()
            try:
                with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
                    parser_factory().parse_args(args)
            except SystemExit:
                reason = errors.getvalue().strip().splitlines()[-1:] or ["argparse exited"]
                problems.append(f"{doc.name}: {where}: `mlops {shlex.join(args)}` does not parse: {reason[0]}")
    return problems


# --- paths -------------------------------------------------------------------------------------------------------


def glob_matches_a_file(root: Path, pattern: str) -> bool:
    hits = glob.glob(pattern, root_dir=root, recursive=True, include_hidden=True)
    return any((root / hit).is_file() for hit in hits)


def repo_path_candidates(root: Path, text: str) -> list[str]:
    """Words of a script or `with:` value that name a file of the project: relative paths under one of its
    top-level folders (.github included; runtime folders like .mlops/ are not), or anything with a slash and a
    known file suffix. Words with shell variables or expressions are not knowable offline and are skipped."""
    top = {p.name for p in root.iterdir() if not p.name.startswith(".")} | {".github"}
    found = []
    for raw in re.split(r"[\s\"'=,]+", text):
        word = raw.strip("()").rstrip(".,:;")
        if not word or "$" in word or "://" in word or word.startswith(("-", "/", "~")) or "/" not in word:
            continue
        first = word.split("/", 1)[0]
        if first in top or (not first.startswith(".") and Path(word.rstrip("/*")).suffix in PATH_SUFFIXES):
            found.append(word)
    return found


def check_paths(doc: Doc) -> list[str]:
    problems = []
    filters = {} if doc.is_action else triggers(doc.data)
    for event, spec in filters.items():
        for key in ("paths", "paths-ignore"):
            patterns = spec.get(key) or [] if isinstance(spec, dict) else []
            for pattern in patterns:
                if not glob_matches_a_file(doc.root, pattern.removeprefix("!")):
                    problems.append(f"{doc.name}: on.{event}.{key}: `{pattern}` matches no file")
    for where, step in steps(doc):
        texts = [step["run"]] if isinstance(step.get("run"), str) else []
        texts += [v for v in (step.get("with") or {}).values() if isinstance(v, str) and not is_expression(v)]
        if isinstance(step.get("working-directory"), str):
            texts.append(step["working-directory"])
        for text in texts:
            for word in repo_path_candidates(doc.root, EXPRESSION.sub("$", text)):
                if not glob_matches_a_file(doc.root, word) and not (doc.root / word).exists():
                    problems.append(f"{doc.name}: {where}: `{word}` does not exist")
    return problems


# --- pins, permissions, secrets ----------------------------------------------------------------------------------


def all_uses(doc: Doc) -> list[str]:
    found = [job["uses"] for job in jobs(doc).values() if isinstance(job.get("uses"), str)]
    return found + [step["uses"] for _, step in steps(doc) if isinstance(step.get("uses"), str)]


def check_pinned_actions(doc: Doc) -> list[str]:
    problems = []
    lines = [(n, USES_LINE.match(line)) for n, line in enumerate(doc.text.splitlines(), start=1)]
    lines = [(n, m) for n, m in lines if m]
    if sorted(m["ref"] for _, m in lines) != sorted(all_uses(doc)):
        problems.append(f"{doc.name}: a `uses:` is written in a form this check cannot read (one `uses: ref` a line)")
    for number, match in lines:
        ref, comment = match["ref"], match["comment"] or ""
        if ref.startswith("./"):
            continue
        if not SHA_PINNED.match(ref):
            problems.append(f"{doc.name}:{number}: `{ref}` is not pinned to a full 40-hex commit SHA")
        elif not VERSION_COMMENT.search(comment):
            problems.append(f"{doc.name}:{number}: `{ref}` has no version comment (`# vX.Y.Z`)")
    return problems


def check_top_permissions(doc: Doc) -> list[str]:
    if doc.is_action:
        return []
    permissions = doc.data.get("permissions")
    problems = []
    if isinstance(permissions, dict) and "id-token" in permissions:
        problems.append(f"{doc.name}: `id-token: {permissions['id-token']}` at the top level: grant it per job")
    if permissions != {"contents": "read"}:
        problems.append(f"{doc.name}: top-level permissions must be exactly `contents: read`, not {permissions!r}")
    return problems


def job_signs_in(doc: Doc, job: dict[str, Any], seen: frozenset[Path] = frozenset()) -> bool:
    """Steps use the azure-login action, or the job calls a local workflow with a job that does."""
    if any(step.get("uses") == AZURE_LOGIN for step in job_steps(job)):
        return True
    uses = job.get("uses")
    if isinstance(uses, str) and uses.startswith("./"):
        callee = local_workflow(doc, uses)
        if callee.is_file() and callee not in seen:
            called = load(callee, doc.root)
            return any(job_signs_in(called, j, seen | {callee}) for j in jobs(called).values())
    return False


def check_id_token(doc: Doc) -> list[str]:
    problems = []
    for job_id, job in jobs(doc).items():
        permissions = job.get("permissions")
        if isinstance(permissions, str):
            problems.append(f"{doc.name}: job {job_id}: `permissions: {permissions}`; list each permission")
            continue
        has_id_token = (permissions or {}).get("id-token") == "write"
        signs_in = job_signs_in(doc, job)
        if has_id_token and not signs_in:
            problems.append(f"{doc.name}: job {job_id}: `id-token: write` but it never signs in via {AZURE_LOGIN}")
        if signs_in and not has_id_token:
            problems.append(f"{doc.name}: job {job_id}: signs in via {AZURE_LOGIN} without `id-token: write`")
    for where, step in steps(doc):
        uses = step.get("uses") or ""
        if uses.split("@")[0].lower() == "azure/login" and not doc.is_action:
            problems.append(f"{doc.name}: {where}: calls azure/login directly; sign in through {AZURE_LOGIN}")
    return problems


def check_no_secrets(doc: Doc) -> list[str]:
    problems = [
        f"{doc.name}: uses `secrets.{name}`: OIDC only, identities come from variables"
        for name in sorted(set(re.findall(r"secrets\.(\w+)", doc.text)) - {"GITHUB_TOKEN"})
    ]
    for where, step in steps(doc):
        if (step.get("uses") or "").split("@")[0].lower() == "azure/login":
            for key in sorted({"creds", "client-secret", "auth-type"} & set(step.get("with") or {})):
                problems.append(f"{doc.name}: {where}: azure/login with `{key}`: OIDC only (client, tenant, sub)")
    return problems


# --- jobs: timeouts, concurrency, checkout, rollback --------------------------------------------------------------


def check_timeouts(doc: Doc) -> list[str]:
    return [
        f"{doc.name}: job {job_id} has no timeout-minutes"
        for job_id, job in jobs(doc).items()
        if "uses" not in job and "timeout-minutes" not in job
    ]


def job_script(job: dict[str, Any]) -> str:
    return "\n".join(step["run"] for step in job_steps(job) if isinstance(step.get("run"), str))


def check_concurrency(doc: Doc) -> list[str]:
    problems = []
    for job_id, job in jobs(doc).items():
        if "uses" in job:
            continue  # the callee's jobs are checked in their own file
        if "environment" not in job and not DEPLOYING.search(job_script(job).replace("\\\n", " ")):
            continue
        concurrency = job.get("concurrency") or doc.data.get("concurrency")
        if not concurrency:
            problems.append(f"{doc.name}: job {job_id} deploys or trains on Azure without a concurrency group")
        elif isinstance(concurrency, dict) and concurrency.get("cancel-in-progress") is True and "environment" in job:
            problems.append(f"{doc.name}: job {job_id}: cancel-in-progress would stop a deployment half-way")
    return problems


def check_checkout(doc: Doc) -> list[str]:
    return [
        f"{doc.name}: {where}: actions/checkout without `persist-credentials: false` (no job here pushes)"
        for where, step in steps(doc)
        if (step.get("uses") or "").startswith("actions/checkout@")
        and (step.get("with") or {}).get("persist-credentials") is not False
    ]


def check_rollback(doc: Doc) -> list[str]:
    """A job that shifts live traffic has a later `if: failure()` step that rolls back."""
    problems = []
    for job_id, job in jobs(doc).items():
        runs = [(n, step) for n, step in enumerate(job_steps(job)) if isinstance(step.get("run"), str)]
        shifts = [n for n, step in runs if any("--traffic" in c for c in mlops_commands(step["run"]))]
        rollbacks = [
            n
            for n, step in runs
            if "failure()" in str(step.get("if", "")) and any("--rollback" in c for c in mlops_commands(step["run"]))
        ]
        if shifts and not any(n > max(shifts) for n in rollbacks):
            problems.append(f"{doc.name}: job {job_id} shifts traffic without an `if: failure()` rollback after it")
    return problems


ALL_CHECKS: list[Callable[[Doc], list[str]]] = [
    check_reusable_calls,
    check_action_calls,
    check_mlops_commands,
    check_paths,
    check_pinned_actions,
    check_top_permissions,
    check_id_token,
    check_no_secrets,
    check_timeouts,
    check_concurrency,
    check_checkout,
    check_rollback,
]


# --- the repository's workflows ----------------------------------------------------------------------------------

WORKFLOW_FILES = sorted((GITHUB / "workflows").glob("*.yml"))
ACTION_FILES = sorted((GITHUB / "actions").glob("*/action.yml"))
DOCS = [load(p) for p in WORKFLOW_FILES + ACTION_FILES]


def test_the_workflows_and_actions_exist():
    names = {p.name for p in WORKFLOW_FILES}
    assert {"ci.yml", "infra.yml", "train.yml", "deploy.yml", "monitor.yml", "teardown.yml"} <= names
    assert {p.parent.name for p in ACTION_FILES} >= {"setup-mlops", "azure-login"}


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_every_workflow_and_action_passes(check):
    problems = [problem for doc in DOCS for problem in check(doc)]
    assert not problems, "\n".join(problems)


def test_the_cli_checks_are_not_vacuous():
    """The parse check saw the commands the workflows exist for."""
    seen = {
        tuple(args[:2])
        for doc in DOCS
        for _, step in steps(doc)
        if isinstance(step.get("run"), str)
        for args in mlops_commands(step["run"])
    }
    for expected in [
        ("azure", "ensure"),
        ("azure", "teardown"),
        ("pipeline", "run"),
        ("deploy", "online"),
        ("monitor", "--target"),
    ]:
        assert expected in seen, f"no `mlops {' '.join(expected)}` in the workflows; saw {sorted(seen)}"
    assert any(args[0] == "promote" for args in seen)
    assert any(args[0] == "monitor" and args[1] == "--collected" for args in seen)


def workflow(name: str) -> Doc:
    return load(GITHUB / "workflows" / name)


def test_every_variable_the_workflows_read_is_documented():
    documented = (REPO / "docs" / "github-actions.md").read_text(encoding="utf-8")
    used = {name for doc in DOCS for name in re.findall(r"\bvars\.(\w+)", doc.text)}
    assert used, "the workflows read no repository variables?"
    missing = sorted(name for name in used if f"`{name}`" not in documented)
    assert not missing, f"variables not described in docs/github-actions.md: {missing}"


def test_the_monitor_watches_the_deployment_the_monitor_yaml_names():
    endpoint = yaml.safe_load((REPO / "endpoints" / "online" / "endpoint.yml").read_text())["name"]
    monitor = yaml.safe_load((REPO / "monitoring" / "monitor.yml").read_text())
    target = monitor["create_monitor"]["monitoring_target"]["endpoint_deployment_id"]
    env = workflow("monitor.yml").data["jobs"]["monitor"]["env"]
    assert f"azureml:{env['ENDPOINT_NAME']}:{env['DEPLOYMENT_NAME']}" == target
    assert env["ENDPOINT_NAME"] == endpoint


def test_the_monitor_reads_only_outputs_the_cli_writes(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from mlops.targets.local import monitor

    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    result = SimpleNamespace(breached=True, retrain=SimpleNamespace(retrain=False), report_html=tmp_path / "r.html")
    monitor.write_github_outputs(result)
    written = {line.split("=", 1)[0] for line in output.read_text().splitlines()}
    doc = workflow("monitor.yml")
    read = set(re.findall(r"steps\.monitor\.outputs\.(\w+)", doc.text))
    assert read and read <= written, f"monitor.yml reads {sorted(read - written)} that mlops monitor never writes"
    job_outputs = set(doc.data["jobs"]["monitor"]["outputs"])
    assert set(re.findall(r"needs\.monitor\.outputs\.(\w+)", doc.text)) <= job_outputs


def test_deploy_names_the_model_the_pipeline_registers():
    model_name = yaml.safe_load((REPO / "pipelines" / "train.yml").read_text())["inputs"]["model_name"]
    text = workflow("deploy.yml").text
    named = set(re.findall(r"(?:model: |--model \"?)([\w-]+):(?!//)", text))
    named |= set(re.findall(r"/models/([\w-]+)/", text))
    assert named == {model_name}


def test_monitor_starts_train_as_a_reusable_workflow_and_train_accepts_the_call():
    retrain = workflow("monitor.yml").data["jobs"]["retrain"]
    assert retrain["uses"] == "./.github/workflows/train.yml"
    assert "needs.monitor.outputs.retrain == 'true'" in retrain["if"]
    assert "workflow_call" in triggers(workflow("train.yml").data)


def test_prod_is_only_reached_through_the_prod_environment():
    """Every job that uses the prod parameter file or the prod rollout runs in the `prod` environment."""
    infra = workflow("infra.yml").data["jobs"]
    for job_id, job in infra.items():
        if "infra/prod.bicepparam" in job_script(job) and "create" in job_script(job):
            assert job.get("environment") == "prod", job_id
    deploy = workflow("deploy.yml").data["jobs"]
    assert deploy["prod"]["with"]["environment"] == "prod"
    assert deploy["prod"]["with"]["model"].startswith("azureml://registries/")
    rollout = workflow("_rollout.yml").data["jobs"]
    assert all(job["environment"] == "${{ inputs.environment }}" for job in rollout.values())
