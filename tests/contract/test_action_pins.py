"""Every third-party action is one row of the pins table, .github/action-pins.yml, and is used as that row allows.

tests/contract/test_workflows.py already checks the form of each pin (a 40-hex commit SHA with a version comment)
and the inputs of the local actions (`./.github/actions/...`, against their own action.yml). This file holds the
other `uses:` to the table, which records per action what cannot be read offline (the release, its commit, the
runtime and the input names its action.yml declares):

- the action has a row, the SHA is the row's and the `# vX.Y.Z` comment is the row's version;
- the row's runtime is newer than node20 (GitHub-hosted runners removed Node 20 on 2026-09-16);
- every `with:` key is an input the row's release declares (GitHub only warns about an unexpected input; the
  action then runs without the setting the workflow meant to give it).

A problem names the file, line and step, and the row to update: when Dependabot bumps a SHA, its pull request fails
here until the row carries the new version, SHA, runtime and inputs (docs/github-actions.md, "Bumping a pin").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts import load_script

workflows = load_script(Path(__file__).with_name("test_workflows.py"))

REPO = workflows.REPO
PINS_TABLE = REPO / ".github" / "action-pins.yml"
OLDEST_NODE = 24  # node20 and older are no longer run by GitHub-hosted runners
NON_NODE_RUNTIMES = {"composite", "docker"}
SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
COMMENT_VERSION = re.compile(r"#\s*(v\d+(?:\.\d+)*)\b")
RUNTIME = re.compile(r"^node(?P<major>\d+)$")


@dataclass(frozen=True)
class Pin:
    """One row of the pins table."""

    action: str  # owner/repo, or owner/repo/path for an action in a subfolder
    version: str
    sha: str
    runtime: str
    inputs: frozenset[str]
    table: str  # the table's file name, for messages

    def row(self) -> str:
        return f"row `{self.action}` of {self.table} (now {self.version} {self.sha}, {self.runtime})"

    def node_too_old(self) -> bool:
        node = RUNTIME.match(self.runtime)
        return node is not None and int(node["major"]) < OLDEST_NODE


@dataclass(frozen=True)
class Table:
    name: str
    rows: dict[str, Pin]


def load_table(path: Path = PINS_TABLE) -> Table:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
    rows: dict[str, Pin] = {}
    for entry in data["actions"]:
        pin = Pin(
            action=entry["action"],
            version=str(entry["version"]),
            sha=str(entry["sha"]),
            runtime=str(entry["runtime"]),
            inputs=frozenset(entry.get("inputs") or []),
            table=name,
        )
        if pin.action in rows:
            raise AssertionError(f"{name}: two rows for `{pin.action}`: one release per action")
        rows[pin.action] = pin
    return Table(name, rows)


def check_table(table: Table) -> list[str]:
    """The rows themselves: well-formed, and no runtime GitHub no longer runs."""
    problems = []
    for pin in table.rows.values():
        if not SHA.match(pin.sha):
            problems.append(f"{pin.row()}: `sha` must be the full 40-hex commit of the tag")
        if not VERSION.match(pin.version):
            problems.append(f"{pin.row()}: `version` must be the release tag, vX.Y.Z")
        if not RUNTIME.match(pin.runtime) and pin.runtime not in NON_NODE_RUNTIMES:
            problems.append(f"{pin.row()}: `runtime` must be the release's `runs.using` (node24, composite, docker)")
        if pin.node_too_old():
            problems.append(
                f"{pin.row()}: runtime {pin.runtime} is no longer supported on GitHub-hosted runners "
                f"(node{OLDEST_NODE} or newer): move to a release that runs on node{OLDEST_NODE}"
            )
        if not pin.inputs:
            problems.append(f"{pin.row()}: `inputs` must list the input names the release's action.yml declares")
    return problems


def pinned_steps(doc: Any) -> list[tuple[int, str, str, str, dict[str, Any]]]:
    """(line, where, ref, comment, with) for each step that uses a third-party action, in file order.

    Lines come from the text (as in check_pinned_actions), steps from the parsed YAML; they are paired in order.
    When the two disagree, check_pinned_actions reports the unreadable `uses:` and the step is named without a line.
    """
    lines = [(n, workflows.USES_LINE.match(text)) for n, text in enumerate(doc.text.splitlines(), start=1)]
    lines = [(n, m["ref"], m["comment"] or "") for n, m in lines if m and not m["ref"].startswith("./")]
    used = [
        (where, step)
        for where, step in workflows.steps(doc)
        if isinstance(step.get("uses"), str) and not step["uses"].startswith("./")
    ]
    if [ref for _, ref, _ in lines] != [step["uses"] for _, step in used]:
        lines = [(0, step["uses"], "") for _, step in used]
    return [
        (number, where, ref, comment, step.get("with") or {})
        for (number, ref, comment), (where, step) in zip(lines, used, strict=True)
    ]


def check_action_pins(doc: Any, table: Table) -> list[str]:
    problems = []
    for number, where, ref, comment, given in pinned_steps(doc):
        at = f"{doc.name}:{number}: {where}" if number else f"{doc.name}: {where}"
        if ref.startswith("docker://"):
            problems.append(f"{at}: `{ref}`: a container image is not in the pins table; use an action")
            continue
        action, _, sha = ref.partition("@")
        pin = table.rows.get(action)
        if pin is None:
            problems.append(
                f"{at}: `{action}` has no row in {table.name}: add one (action, version, sha, runtime, inputs) "
                "from the release's action.yml"
            )
            continue
        version = COMMENT_VERSION.search(comment)
        written = version[1] if version else None
        if sha != pin.sha or written != pin.version:
            problems.append(
                f"{at}: `{ref} # {written or '(no version)'}` is not the pinned release: {pin.row()}. "
                f"To move to this release, update that row's version, sha, runtime and inputs from its action.yml; "
                f"otherwise write `{action}@{pin.sha} # {pin.version}`"
            )
            continue
        if pin.node_too_old():
            problems.append(
                f"{at}: `{action}` {pin.version} runs on {pin.runtime}, which GitHub-hosted runners no longer run: "
                f"move to its node{OLDEST_NODE} release and update {pin.row()}"
            )
        for name in sorted(set(given) - pin.inputs):
            problems.append(
                f"{at}: input `{name}` is not declared by {action} {pin.version} "
                f"({', '.join(sorted(pin.inputs))}); if the release declares it, add it to {pin.row()}"
            )
    return problems


# --- the repository's table and workflows ------------------------------------------------------------------------

TABLE = load_table()


def test_the_table_rows_are_well_formed_and_on_a_supported_runtime():
    problems = check_table(TABLE)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", workflows.DOCS, ids=lambda d: d.name)
def test_every_action_is_a_row_of_the_table_and_gets_only_its_inputs(doc):
    problems = check_action_pins(doc, TABLE)
    assert not problems, "\n".join(problems)


def test_every_row_is_used():
    """A row no workflow uses is a stale pin nobody reviews; remove it with the last use."""
    used = {ref.partition("@")[0] for doc in workflows.DOCS for _, _, ref, _, _ in pinned_steps(doc)}
    assert used, "no third-party action in .github/?"
    stale = sorted(set(TABLE.rows) - used)
    assert not stale, f"rows of {PINS_TABLE.relative_to(REPO)} no workflow or action uses: {stale}"


def test_the_docs_say_where_the_table_is():
    docs = (REPO / "docs" / "github-actions.md").read_text(encoding="utf-8")
    assert ".github/action-pins.yml" in docs
    assert "tests/contract/test_action_pins.py" in docs
