"""The engine's one way into the components' shared code (`components/shared/`, e.g. `tabular_common`).

Rules of direction: the engine may use what the components share (one MLTable reader, one champion rule), so the
two sides cannot drift apart; components never import the engine (the local target blocks it, as Azure would).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from mlops.errors import MlopsError


def import_shared(folder: Path, module: str) -> ModuleType:
    """Import `module` (e.g. `tabular_common.io`) from a project's shared component code (`components/shared/`)."""
    package = module.split(".", 1)[0]
    if not (folder / package).is_dir():
        raise MlopsError(f"{folder / package}: not found; the local target reads tables and models with it")
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    return importlib.import_module(module)
