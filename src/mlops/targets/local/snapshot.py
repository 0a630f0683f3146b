"""Code snapshots and content hashes.

The snapshot is built by azure-ai-ml's own code (the one that merges `code:` and `additional_includes` before
upload), so what runs locally is byte for byte what Azure ML would upload. That code merges into
`tempfile.mkdtemp()/code_with_additional_includes` and removes only the inner folder; so while it runs, Python's
temp folder is a private one beside the snapshot, removed afterwards: nothing is left in the system temp folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def build_snapshot(component: Any, component_file: Path, destination: Path) -> None:
    """The component's `code:` (with its additional_includes) copied to `destination`, the step's working folder.
    A component without `code:` (`command: echo hello`) runs in an empty one, as on Azure nothing is uploaded."""
    if not component.code:
        destination.mkdir(parents=True)
        return
    if not hasattr(component, "_generate_additional_includes_obj"):  # a parallel component: its task.code, as is
        source = (Path(component.base_path) / str(component.code)).resolve()
        if not source.is_dir():
            raise MlopsError(f"{component_file}: task.code: folder {component.code} not found")
        shutil.copytree(source, destination, ignore=IGNORED)
        return
    with warnings.catch_warnings(), _private_tempdir(destination.parent / f".{destination.name}.tmp"):
        warnings.simplefilter("ignore")
        try:
            merged = component._generate_additional_includes_obj().merge_local_code_and_additional_includes()
            with merged as code_folder:
                if code_folder is None or not Path(code_folder).exists():
                    raise MlopsError(f"{component_file}: code: folder {component.code} not found")
                if Path(code_folder).is_file():
                    destination.mkdir(parents=True)
                    shutil.copy2(code_folder, destination / Path(code_folder).name)
                else:
                    shutil.copytree(code_folder, destination, ignore=IGNORED)
        except MlopsError:
            raise
        except Exception as exc:  # the SDK reports a missing include as ValueError and others
            raise MlopsError(f"{component_file}: additional_includes: {exc}") from exc


@contextlib.contextmanager
def _private_tempdir(folder: Path) -> Iterator[None]:
    """Point `tempfile` at `folder` for the block, then delete `folder` with whatever the block left in it.
    Process-wide, like tempfile.tempdir itself: the engine builds snapshots from one thread."""
    folder.mkdir(parents=True, exist_ok=True)
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)


def hash_path(path: Path) -> str:
    """sha256 over a file's bytes, or over a folder's relative file names and bytes."""
    digest = hashlib.sha256()
    if path.is_file():
        _update_with_file(digest, path)
        return digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(b"\0")
        _update_with_file(digest, file)
    return digest.hexdigest()


def _update_with_file(digest: Any, file: Path) -> None:
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
