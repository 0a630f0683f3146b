"""Offline syntax check for the Bicep templates: every .bicep file must parse with pycep-parser.

checkov reads Bicep with pycep-parser too, but it skips a file it cannot parse and still exits 0, so a syntax error
would pass `make infra-check` silently without this script. `make infra-check` runs it twice: with the project's
pycep-parser (.venv, the version the contract tests read) and with the one checkov depends on (.venv-checkov), so
every file checkov is expected to scan really is scanned.

.bicepparam files are not Bicep templates (pycep-parser cannot read them); they get a small explicit check here:
a `using '<template>.bicep'` line naming a template that exists, and only `param` names that template declares.

Usage: python infra/check_bicep.py [FILE_OR_FOLDER ...]   (default: the folder this script is in)
Exit code: 0 all files passed, 1 at least one failed (each failure names its file).
"""

from __future__ import annotations

import re
import sys
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pycep import BicepParser

USING = re.compile(r"^\s*using\s+'(?P<target>[^']+)'\s*$", re.MULTILINE)
PARAM = re.compile(r"^\s*param\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)


@cache
def default_parser() -> BicepParser:
    """Building the Lark parser costs more than parsing a template: build it once."""
    return BicepParser()


def parse_bicep(path: Path, parser: BicepParser | None = None) -> dict[str, Any]:
    """The template as pycep-parser's JSON-like dict; raises on a syntax error."""
    return (parser or default_parser()).parse(text=path.read_text(encoding="utf-8"))


def parse_bicepparam(path: Path) -> tuple[str | None, list[str]]:
    """(template named by `using`, names of the params the file sets). Comments are ignored."""
    text = "\n".join(line.split("//", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    using = USING.search(text)
    return (using.group("target") if using else None), PARAM.findall(text)


def bicepparam_problems(path: Path, parser: BicepParser | None = None) -> list[str]:
    """What is wrong with a .bicepparam file: no `using`, a missing template, or a param the template lacks."""
    target, params = parse_bicepparam(path)
    if target is None:
        return ["no `using '<template>.bicep'` line"]
    template_path = path.parent / target
    if not template_path.is_file():
        return [f"using '{target}': file not found"]
    declared = parse_bicep(template_path, parser).get("parameters", {})
    problems = [f"param {name}: not declared in {target}" for name in params if name not in declared]
    problems += [f"param {name}: set twice" for name in sorted({n for n in params if params.count(n) > 1})]
    return problems


def one_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def discover(targets: list[Path]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(p for p in target.rglob("*") if p.suffix in (".bicep", ".bicepparam") and p.is_file())
        else:
            files.append(target)
    return files


def check(files: list[Path], out=sys.stdout) -> int:
    """Print one line per file; return the number of files that failed."""
    parser = default_parser()
    failed = 0
    for path in files:
        try:
            if not path.is_file():
                problems = ["file not found"]
            elif path.suffix == ".bicepparam":
                problems = bicepparam_problems(path, parser)
            else:
                parse_bicep(path, parser)
                problems = []
        except Exception as exc:  # pycep raises lark errors and ValueError; all mean "does not parse"
            problems = [one_line(exc)]
        if problems:
            failed += 1
            for problem in problems:
                print(f"FAIL {path}: {problem}", file=out)
        else:
            print(f"ok   {path}", file=out)
    print(f"{len(files)} file(s) checked with pycep-parser {version('pycep-parser')}: {failed} failed", file=out)
    return failed


def main(argv: list[str] | None = None) -> int:
    args = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    files = discover(args or [Path(__file__).resolve().parent])
    if not files:
        print("no .bicep or .bicepparam files found", file=sys.stderr)
        return 1
    return 1 if check(files) else 0


if __name__ == "__main__":
    sys.exit(main())
