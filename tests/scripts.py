"""Import a repo script that lives in a plain folder (infra/, data/, pipelines/), not in a package.

Importable from the tests because pytest puts tests/ (the folder of the root conftest.py) on sys.path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """The module defined by `path`, loaded once per test process and registered under `name`."""
    name = name or path.stem
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
