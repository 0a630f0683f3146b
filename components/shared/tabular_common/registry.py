"""The champion convention of the model registry: the one definition, used by evaluate (who to beat), register
(who to demote) and, outside the components, by whatever else must find the champion (the local engine's `serve`):
`select_champion(search_versions(client, name))` with any MlflowClient.

Azure ML's MLflow server has no aliases and no stages, so the champion is marked with a model version tag:
`champion` = "true" on the current champion (compared case-insensitively), "false" on former ones. If several
versions carry "true" (a register step that died between marking the new champion and demoting the old one), the
highest version number wins. `search_versions` follows the registry's pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tabular_common.errors import DataError

CHAMPION_TAG = "champion"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def check_model_name(name: str) -> str:
    """Azure ML model names: letters, digits, `_`, `-`, `.`; starting with a letter or digit; max 255."""
    if not _MODEL_NAME.match(name or ""):
        raise DataError(
            f"model_name: '{name}' is not a valid model name; use letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def _tags(version: Any) -> dict[str, str]:
    tags = version.get("tags") if isinstance(version, dict) else getattr(version, "tags", None)
    return dict(tags or {})


def _number(version: Any) -> int:
    value = version.get("version") if isinstance(version, dict) else getattr(version, "version", None)
    return int(value)


def champion_versions(versions: Iterable[Any]) -> list[Any]:
    """Versions tagged champion="true", highest version number first (objects or dicts with version/tags)."""
    marked = [v for v in versions if _tags(v).get(CHAMPION_TAG, "").strip().lower() == "true"]
    return sorted(marked, key=_number, reverse=True)


def select_champion(versions: Iterable[Any]) -> Any | None:
    """The champion among `versions`, or None when no version is tagged champion="true"."""
    marked = champion_versions(versions)
    return marked[0] if marked else None


def search_versions(client: Any, model_name: str) -> list[Any]:
    """All versions of `model_name`; a model that is not registered yet has none."""
    from mlflow.exceptions import MlflowException

    check_model_name(model_name)
    versions: list[Any] = []
    token = None
    try:
        while True:
            page = client.search_model_versions(f"name='{model_name}'", page_token=token)
            versions.extend(page)
            token = getattr(page, "token", None)
            if not token:
                return versions
    except MlflowException as exc:
        # A registered model that does not exist yet means "no versions". Any other registry failure is raised:
        # treating it as "no champion" would let the gate wave a candidate through.
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or "not found" in str(exc).lower():
            return []
        raise
