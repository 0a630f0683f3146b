"""Loaded by every component process the local executor starts (it is first on PYTHONPATH).

On Azure ML a component gets only its code snapshot and its environment's packages, so importing this
project's own package fails there. This makes it fail the same way locally instead of passing by accident.
"""

import os
import sys

_BLOCKED = {name for name in os.environ.get("MLOPS_BLOCKED_PACKAGES", "").split(",") if name}


class _ProjectPackageBlocker:
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".", 1)[0] in _BLOCKED:
            raise ModuleNotFoundError(
                f"No module named '{fullname}' (component code cannot import the project package: on Azure ML "
                "only the component's code folder and additional_includes are uploaded)",
                name=fullname,
            )
        return None


if _BLOCKED:
    sys.meta_path.insert(0, _ProjectPackageBlocker())
