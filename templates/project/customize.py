"""Copier's task (copier.yml `_tasks`): turn a verbatim copy of this template into the asked-for project.

Run in the new project's folder. Standard library only: copier runs it with its own Python.

1. Project-level values, by checked replacements: each pattern must match where it is expected (a count per file),
   or the script stops naming the file and the pattern, so the template cannot drift silently away from this
   script. The patterns match the template's values and any earlier answer alike, so `copier update` can rerun it.
   - `project_name`: `name = "..."` in pyproject.toml, the README's title (its first line, a `# ` heading);
   - `resource_prefix`: `param prefix = '...'` in infra/dev.bicepparam and infra/prod.bicepparam, and the resource
     group names `rg-<prefix>-dev|prod` in the docs that create them;
   - `azure_region`: `param location = '...'` in both parameter files (added after `param environment`; main.bicep
     defaults it to the resource group's region), the `az group create` regions in the docs, and the registry's
     region in infra/azureml/registry.yml.
2. A model, when `--model-table` is given: `mlops init TABLE --target T --name N
   [--sensitive-feature S]` run by the Python in `MLOPS_PYTHON` (default: `.venv/bin/python`, built first with
   `make .venv/.installed-from-lock`). Skipped when models/N.yml already exists (a rerun by `copier update`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RG_DOCS = ("README.md", "infra/README.md", "docs/github-actions.md")
PARAM_FILES = ("infra/dev.bicepparam", "infra/prod.bicepparam")
# The `mlops` console script's entry point (mlops.cli has no __main__), so any Python with mlops importable works.
MLOPS_MAIN = "import sys; from mlops.cli import main; sys.exit(main(sys.argv[1:]))"


class TemplateDrift(Exception):
    """An expected text is missing: the template changed under this script."""


@dataclass(frozen=True)
class Edit:
    path: str
    pattern: str
    replacement: str
    count: int | None = 1  # exact number of matches required; None: at least one

    def apply(self, text: str) -> str:
        """The text with the replacement made. Raises TemplateDrift when the pattern matches a wrong number of times."""
        found = len(re.findall(self.pattern, text, flags=re.MULTILINE))
        if found == 0 or (self.count is not None and found != self.count):
            wanted = "at least 1" if self.count is None else str(self.count)
            raise TemplateDrift(f"{self.path}: {self.pattern!r} matches {found} times, expected {wanted}")
        return re.sub(self.pattern, self.replacement, text, flags=re.MULTILINE)


def apply_all(root: Path, edits: list[Edit]) -> list[str]:
    """Check every edit before writing any file, so a drifted template leaves the copy untouched; the changed paths."""
    texts: dict[str, str] = {}
    for edit in edits:
        if edit.path not in texts:
            file = root / edit.path
            if not file.is_file():
                raise TemplateDrift(f"{edit.path}: file not found (expected {edit.pattern!r})")
            texts[edit.path] = file.read_text(encoding="utf-8")
        texts[edit.path] = edit.apply(texts[edit.path])
    changed = []
    for path, text in texts.items():
        if (root / path).read_text(encoding="utf-8") != text:
            (root / path).write_text(text, encoding="utf-8")
            changed.append(path)
    return sorted(changed)


def project_edits(root: Path, project_name: str, prefix: str, region: str) -> list[Edit]:
    edits = [
        Edit("pyproject.toml", r'^name = "[^"\n]+"$', f'name = "{project_name}"'),
    ]
    # The README's title names the project once it is renamed; it stays the template's own until then.
    pyproject = root / "pyproject.toml"
    current = (
        re.search(r'^name = "([^"\n]+)"$', pyproject.read_text(encoding="utf-8"), re.MULTILINE)
        if pyproject.is_file()
        else None
    )
    renamed = current is not None and current.group(1) != project_name
    edits.append(Edit("README.md", r"\A# [^\n]+", f"# {project_name}" if renamed else r"\g<0>"))
    for path in PARAM_FILES:
        edits.append(Edit(path, r"^param prefix = '[a-z0-9]+'$", f"param prefix = '{prefix}'"))
        text = (root / path).read_text(encoding="utf-8") if (root / path).is_file() else ""
        if re.search(r"^param location = ", text, flags=re.MULTILINE):
            edits.append(Edit(path, r"^param location = '[^'\n]*'$", f"param location = '{region}'"))
        else:
            edits.append(Edit(path, r"^(param environment = '(?:dev|prod)'\n)", rf"\g<1>param location = '{region}'\n"))
    for path in RG_DOCS:
        edits.append(Edit(path, r"\brg-[a-z0-9]{2,8}-(dev|prod)\b", rf"rg-{prefix}-\1", count=None))
        edits.append(
            Edit(
                path,
                r"(\baz group create\b[^\n]*?(?:-l|--location) )[a-z0-9]+",
                rf"\g<1>{region}",
                count=None,
            )
        )
    edits.append(Edit("infra/azureml/registry.yml", r"^(\s*(?:- )?location: )[a-z0-9]+$", rf"\g<1>{region}", 2))
    # The monitor's `tags.project` is rendered from pyproject's name (templates/model/), so it follows the rename.
    edits.append(Edit("monitoring/monitor.yml", r"^(  project: )[A-Za-z0-9_.-]+$", rf"\g<1>{project_name}"))
    return edits


def mlops_python(root: Path) -> str:
    configured = os.environ.get("MLOPS_PYTHON")
    if configured:
        return configured
    subprocess.run(["make", ".venv/.installed-from-lock"], cwd=root, check=True)
    return str(root / ".venv" / "bin" / "python")


def init_model(root: Path, table: str, target: str, name: str, sensitive: str) -> None:
    if (root / "models" / f"{name}.yml").exists():
        print(f"customize: models/{name}.yml exists; not running mlops init again")
        return
    source = Path(table).expanduser()
    source = source if source.is_absolute() else (root / source)
    if not source.exists():
        raise SystemExit(f"customize: model_table {table!r} not found (give an absolute path)")
    if not target:
        raise SystemExit("customize: model_target is required with model_table")
    command = [mlops_python(root), "-c", MLOPS_MAIN, "init", str(source), "--target", target, "--name", name]
    if sensitive:
        command += ["--sensitive-feature", sensitive]
    env = {**os.environ, "MLOPS_PROJECT_ROOT": str(root)}
    print("customize: " + " ".join(command[1:]), flush=True)
    subprocess.run(command, cwd=root, env=env, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the new project (default: here)")
    parser.add_argument("--project-name", required=True)
    parser.add_argument("--resource-prefix", required=True)
    parser.add_argument("--azure-region", required=True)
    parser.add_argument("--model-table", default="")
    parser.add_argument("--model-target", default="")
    parser.add_argument("--model-name", default="")
    parser.add_argument("--model-sensitive-feature", default="")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not re.fullmatch(r"[a-z0-9]{2,8}", args.resource_prefix):
        raise SystemExit(f"customize: resource prefix {args.resource_prefix!r}: 2-8 lowercase letters or digits")
    try:
        changed = apply_all(root, project_edits(root, args.project_name, args.resource_prefix, args.azure_region))
    except TemplateDrift as drift:
        print(f"customize: the template drifted from templates/project/customize.py: {drift}", file=sys.stderr)
        return 1
    print(f"customize: {len(changed)} files rewritten: {', '.join(changed) or 'none'}")
    if args.model_table:
        init_model(root, args.model_table, args.model_target, args.model_name, args.model_sensitive_feature)
    return 0


if __name__ == "__main__":
    sys.exit(main())
