"""`mlops validate [FILES]`: load every Azure ML YAML offline and check what the SDK lets through."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_FAILED, EXIT_OK, SharedFlags, layout
from mlops.errors import MlopsError
from mlops.project.layout import Layout


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    validate = verbs.add_parser("validate", help="load every Azure ML YAML offline and check what the SDK misses")
    validate.add_argument("files", nargs="*", type=Path, help="only these files or folders (default: the whole repo)")
    validate.set_defaults(func=validate_files)


def validate_files(args: argparse.Namespace) -> int:
    from mlops.project import validate

    # Files given: their project, or (a job YAML anywhere) their own folder, as `mlops job run` reads them.
    project = Layout.for_job(args.files[0]) if args.files else layout()
    given = [f.resolve() for f in args.files]
    missing = [f for f in given if not f.exists()]
    if missing:
        raise MlopsError(f"{missing[0]}: file not found")
    targets = [file for f in given for file in (validate.in_folder(f) if f.is_dir() else [f])]
    if given and not targets:
        raise MlopsError(f"{given[0]}: no Azure ML YAML or MLTable files in this folder")
    targets = targets or validate.discover(project)
    problems = validate.validate_files(project, targets, whole_project=not args.files)
    for problem in problems:
        print(problem.render(project.root))
    if problems:
        print(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s); {len(targets)} checked")
        return EXIT_FAILED
    print(f"{len(targets)} file(s) valid")
    return EXIT_OK
