"""The champion convention of the model registry: the one definition, used by evaluate (who to beat), register
(who to replace) and, outside the components, by whatever else must find the champion (the local engine's `serve`):
`select_champion(search_versions(client, name))` with any MlflowClient.

Azure ML's MLflow server has no aliases and no stages, so the champion is marked with a model version tag:
`champion` = "true" on the current champion (compared case-insensitively), "false" on former ones. If several
versions carry "true" (a promotion in progress, or a register step that died halfway), the highest version number
wins. `search_versions` follows the registry's pages.

Changing the champion is `promote`, a compare-and-set on those tags that needs no lock (Azure has none to offer):
a promotion never demotes a newer version, and steps back when it finds a newer champion. Locally the register
step also holds a file lock around it (`tabular_common.engine.registry_lock`), so local runs never interleave.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tabular_common.errors import DataError

CHAMPION_TAG = "champion"
# Float noise when comparing a candidate with a champion: 0.3 - 0.2 must count as an improvement of 0.1.
TOLERANCE = 1e-9
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


def improvement(candidate: float, champion: float, higher_is_better: bool) -> float:
    """How much better the candidate is, signed so that positive is better whatever the metric's direction."""
    return candidate - champion if higher_is_better else champion - candidate


def improves(gain: float, min_improvement: float) -> bool:
    """The gate's improvement check: `gain` (from `improvement`) is at least `min_improvement`, up to float noise."""
    return gain >= min_improvement - TOLERANCE


@dataclass(frozen=True)
class Promotion:
    """What `promote` did. `champion`: the version is the champion afterwards. `replaced`: the champion it took
    over by the read rule, the highest older version tagged true (None: there was none). `demoted`: every older
    version it tagged false, highest first (more than `replaced` only after a crash, or on Azure when concurrent
    promotions overlapped). `newer`: the newer champion it stepped back for."""

    champion: bool
    replaced: str | None = None
    demoted: tuple[str, ...] = ()
    newer: str | None = None


def promote(client: Any, model_name: str, version: str | int) -> Promotion:
    """Make `version` the champion unless a newer version is: a compare-and-set on the `champion` tags.

    1. tag the version champion=true;
    2. read every version of the model again;
    3. if a NEWER version is tagged true, step back: tag this one champion=false (the newer one wins);
    4. otherwise tag every OLDER champion false. A newer version is never demoted.

    Whatever the interleaving of concurrent promotions, once they have all finished exactly one version is tagged
    true, the newest one promoted: it never steps back (nothing newer is marked) and nobody demotes it; every
    older one either saw a newer "true" and stepped back, or marked itself before the newer one read the tags and
    was demoted by it. Meanwhile the read rule (`select_champion`: the highest "true") names a version at every
    moment: the highest one marked so far, which nobody can unmark. The argument assumes read-after-write: a read
    that starts after a tag write sees it (MLflow's SQL store does; on Azure ML it is assumed of its registry).
    """
    number = int(version)
    client.set_model_version_tag(model_name, str(number), CHAMPION_TAG, "true")
    marked = champion_versions(search_versions(client, model_name))
    newer = [v for v in marked if _number(v) > number]
    if newer:
        client.set_model_version_tag(model_name, str(number), CHAMPION_TAG, "false")
        return Promotion(champion=False, newer=str(_number(newer[0])))
    older = [str(_number(v)) for v in marked if _number(v) < number]
    for old in older:
        client.set_model_version_tag(model_name, old, CHAMPION_TAG, "false")
    return Promotion(champion=True, replaced=older[0] if older else None, demoted=tuple(older))
