"""Pre-flight vCPU quota check: what the repo will ask Azure for (the compute cluster at its maximum size, every
online deployment) against the subscription's regional Azure ML quota, before anything is deployed.

The arithmetic is pure (`charged_instances`, `demands`, `shortfalls`); only `check` calls the MLClient
(`compute.list_sizes`, `compute.list_usage`).

Azure's rule for managed online deployments: it reserves 20% extra instances for upgrades, so a deployment of N
instances needs quota for ceil(1.2 * N) instances times the SKU's vCPUs; a few large GPU SKUs are exempt (Azure
ML docs, "Virtual machine quota allocation for deployment").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.project import loaders
from mlops.project.layout import ModelLayout
from mlops.targets.azure.workspace import Echo, azure_errors

# SKUs Azure lists as exempt from the 20% upgrade reservation of managed online deployments.
NO_UPGRADE_RESERVE = frozenset(
    s.lower()
    for s in (
        "Standard_NC24ads_A100_v4",
        "Standard_NC48ads_A100_v4",
        "Standard_NC96ads_A100_v4",
        "Standard_ND96asr_v4",
        "Standard_ND96amsr_A100_v4",
        "Standard_ND40rs_v2",
    )
)
TOTAL_DEDICATED = "totalclusterdedicatedregionalvcpus"
TOTAL_LOW_PRIORITY = "totalclusterlowpriorityregionalvcpus"
WHAT_TO_DO = (
    "use a smaller SKU (e.g. `mlops deploy online --instance-type Standard_DS2_v2`, or computeClusterVmSize / "
    "computeClusterMaxNodes in the profile), free vCPUs (`mlops azure teardown` in dev), or request more quota "
    "(Azure portal: Quotas > Machine Learning)"
)


@dataclass(frozen=True)
class Need:
    """Instances of one SKU that something in the repo will run."""

    sku: str
    count: int
    source: str  # the file and field it comes from
    upgrade_reserve: bool = False  # managed online deployment: Azure reserves 20% extra
    low_priority: bool = False

    @property
    def charged(self) -> int:
        return charged_instances(self.count, self.sku) if self.upgrade_reserve else self.count


@dataclass(frozen=True)
class SkuInfo:
    name: str
    family: str
    vcpus: int


@dataclass(frozen=True)
class Demand:
    """vCPUs a quota pool (a VM family, or the regional low-priority pool) must have free."""

    pool: str
    vcpus: int
    needs: tuple[tuple[Need, SkuInfo], ...]

    def explain(self) -> str:
        parts = [
            f"{n.sku} x {n.charged}"
            + (f" (ceil(1.2 x {n.count}))" if n.charged != n.count else "")
            + f" x {s.vcpus} vCPUs [{n.source}]"
            for n, s in self.needs
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class UsageRow:
    name: str
    type: str
    current: int
    limit: int

    @property
    def available(self) -> int | None:
        """limit - current usage; None when Azure reports no limit (-1)."""
        return None if self.limit < 0 else self.limit - self.current


def charged_instances(count: int, sku: str) -> int:
    """ceil(1.2 * count) for a managed online deployment, in integers; exempt SKUs are charged `count`."""
    if sku.lower() in NO_UPGRADE_RESERVE:
        return count
    return (count * 6 + 4) // 5


# --- what the repo asks for ---------------------------------------------------------------------------------------


def read_bicepparam(file: Path) -> dict[str, str]:
    """`param NAME = VALUE` lines of a .bicepparam file (quotes stripped, trailing comments dropped)."""
    if not file.is_file():
        known = sorted(p.stem for p in file.parent.glob("*.bicepparam"))
        raise MlopsError(
            f"{file}: file not found (a profile is infra/<profile>.bicepparam; here: {', '.join(known) or 'none'})"
        )
    values = {}
    for line in file.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*param\s+(\w+)\s*=\s*(.+?)\s*(//.*)?$", line)
        if match:
            values[match[1]] = match[2].strip().strip("'")
    return values


def cluster_need(file: Path) -> Need:
    """The compute cluster at its maximum size, from computeClusterVmSize and computeClusterMaxNodes."""
    params = read_bicepparam(file)
    missing = [p for p in ("computeClusterVmSize", "computeClusterMaxNodes") if not params.get(p)]
    if missing:
        raise MlopsError(f"{file}: no `param {missing[0]} = ...` (the quota check reads the cluster's size from it)")
    nodes = params["computeClusterMaxNodes"]
    if not nodes.isdigit():
        raise MlopsError(f"{file}: computeClusterMaxNodes must be a whole number, not {nodes!r}")
    return Need(
        params["computeClusterVmSize"],
        int(nodes),
        f"{file.parent.name}/{file.name} computeClusterVmSize x computeClusterMaxNodes",
        low_priority=params.get("computeClusterVmPriority", "Dedicated").lower() == "lowpriority",
    )


def profile_online(file: Path) -> tuple[str | None, int | None]:
    """The profile's serving size (`param onlineInstanceType`, `param onlineInstanceCount`), when it sets one."""
    params = read_bicepparam(file)
    count = params.get("onlineInstanceCount")
    if count is not None and not count.isdigit():
        raise MlopsError(f"{file}: onlineInstanceCount must be a whole number, not {count!r}")
    return params.get("onlineInstanceType") or None, int(count) if count else None


def online_needs(
    layout: ModelLayout,
    instance_type: str | None = None,
    instance_count: int | None = None,
    override_source: str = "--instance-type",
) -> list[Need]:
    """Every online deployment YAML's instance_type x instance_count, with the overrides `mlops deploy online`
    would apply (`override_source` says where they come from). Blue and green both count: a rollout runs both."""
    needs = []
    for name in layout.online_deployment_names():
        file = layout.online_deployment(name)
        document = loaders.read_yaml(file)
        sku = instance_type or document.get("instance_type")
        if not sku:
            raise MlopsError(f"{file}: no instance_type (a managed online deployment needs one)")
        count = instance_count if instance_count is not None else document.get("instance_count", 1)
        if not isinstance(count, int) or count < 1:
            raise MlopsError(f"{file}: instance_count must be a whole number >= 1, not {count!r}")
        overridden = instance_type or instance_count is not None
        source = f"{file.parent.name}/{file.name}" + (f" with {override_source}" if overridden else "")
        needs.append(Need(str(sku), count, source, upgrade_reserve=True))
    return needs


# --- what Azure reports -------------------------------------------------------------------------------------------


def _field(obj: Any, *names: str) -> Any:
    """azure-ai-ml 1.35 fills VmSize/Usage from the REST model's `as_dict()`, whose keys are the wire names
    (`vCPUs`, `currentValue`), so the snake_case attributes stay None: read whichever is set."""
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def sku_infos(sizes: Iterable[Any]) -> dict[str, SkuInfo]:
    """list_sizes() result -> {lowercase SKU name: SkuInfo}."""
    found = {}
    for size in sizes:
        name, family, vcpus = _field(size, "name"), _field(size, "family"), _field(size, "v_cp_us", "vCPUs")
        if name and family and vcpus is not None:
            found[str(name).lower()] = SkuInfo(str(name), str(family), int(vcpus))
    return found


def usage_rows(usages: Iterable[Any]) -> list[UsageRow]:
    """list_usage() result -> rows with the usage's display name (`name.value` or `name.localizedValue`)."""
    rows = []
    for usage in usages:
        name = _field(usage, "name")
        text = name if isinstance(name, str) else _field(name or {}, "value", "localized_value", "localizedValue")
        current, limit = _field(usage, "current_value", "currentValue"), _field(usage, "limit")
        if text and current is not None and limit is not None:
            rows.append(UsageRow(str(text), str(_field(usage, "type") or ""), int(current), int(limit)))
    return rows


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def family_usage(rows: Iterable[UsageRow], family: str) -> UsageRow | None:
    """The subscription-level dedicated quota of a VM family: `standardDSv2Family` (list_sizes) matches the usage
    `Standard DSv2 Family Cluster Dedicated vCPUs` (type .../vmFamily/usages); workspace-level rows are skipped."""
    wanted = _key(family)
    for row in rows:
        key = _key(row.name)
        if "vmfamily" in row.type.lower() and key.startswith(wanted) and "dedicated" in key:
            return row
    return None


def total_usage(rows: Iterable[UsageRow], key: str) -> UsageRow | None:
    return next((row for row in rows if _key(row.name) == key), None)


# --- the comparison ------------------------------------------------------------------------------------------------


def resolve(needs: Iterable[Need], skus: Mapping[str, SkuInfo]) -> list[tuple[Need, SkuInfo]]:
    """Each need with its SKU's family and vCPUs; an unknown SKU is an error that lists near matches."""
    resolved = []
    for need in needs:
        info = skus.get(need.sku.lower())
        if info is None:
            near = difflib.get_close_matches(need.sku.lower(), list(skus), n=5, cutoff=0.6)
            hint = ", ".join(skus[n].name for n in near) or "none"
            raise MlopsError(
                f"{need.source}: VM size {need.sku} is not offered to Azure ML in the workspace's region "
                f"(near matches: {hint})"
            )
        resolved.append((need, info))
    return resolved


def demands(resolved: Iterable[tuple[Need, SkuInfo]]) -> list[Demand]:
    """vCPUs needed per quota pool: each dedicated VM family, and the regional low-priority pool."""
    pools: dict[str, list[tuple[Need, SkuInfo]]] = {}
    for need, info in resolved:
        pools.setdefault("low priority" if need.low_priority else info.family, []).append((need, info))
    return [
        Demand(pool, sum(n.charged * s.vcpus for n, s in items), tuple(items)) for pool, items in sorted(pools.items())
    ]


def shortfalls(wanted: Iterable[Demand], rows: list[UsageRow]) -> tuple[list[str], list[str]]:
    """(report lines, problems): each pool's need against limit - current usage, then the regional totals."""
    report, problems = [], []
    dedicated = 0
    for demand in wanted:
        if demand.pool == "low priority":
            row = total_usage(rows, TOTAL_LOW_PRIORITY)
            label = "low-priority vCPUs (regional)"
        else:
            dedicated += demand.vcpus
            row = family_usage(rows, demand.pool)
            label = f"VM family {demand.pool}"
            if row is None:
                problems.append(
                    f"{label}: no quota entry in the usage list for {demand.explain()}; the family may not be "
                    f"available to Azure ML in this region (families listed: {_families(rows)})"
                )
                continue
        if row is None:
            continue
        report.append(_line(label, demand.vcpus, row, demand.explain()))
        if row.available is not None and demand.vcpus > row.available:
            problems.append(_problem(label, demand.vcpus, row, demand.explain()))
    total = total_usage(rows, TOTAL_DEDICATED)
    if total is not None and dedicated:
        report.append(_line("all dedicated vCPUs (regional)", dedicated, total, "the families above together"))
        if total.available is not None and dedicated > total.available:
            problems.append(_problem("all dedicated vCPUs (regional)", dedicated, total, "the families above"))
    return report, problems


def _line(label: str, needed: int, row: UsageRow, why: str) -> str:
    free = "no limit" if row.available is None else f"{row.available} free ({row.limit} - {row.current} in use)"
    return f"{label}: need {needed} vCPUs, {free}: {why}"


def _problem(label: str, needed: int, row: UsageRow, why: str) -> str:
    return (
        f"{label}: need {needed} vCPUs but only {row.available} are available "
        f"(limit {row.limit} - current usage {row.current}) for {why}"
    )


def _families(rows: Iterable[UsageRow]) -> str:
    names = sorted({r.name for r in rows if "vmfamily" in r.type.lower() and "dedicated" in _key(r.name)})
    return ", ".join(names) or "none"


def check(client: Any, needs: list[Need], location: str | None = None, echo: Echo = print) -> list[str]:
    """Read the region's VM sizes and usage with the MLClient, print the comparison, raise if anything is short."""
    with azure_errors("reading VM sizes and quota"):
        sizes = list(client.compute.list_sizes(location=location))
        usages = list(client.compute.list_usage(location=location))
    wanted = demands(resolve(needs, sku_infos(sizes)))
    report, problems = shortfalls(wanted, usage_rows(usages))
    for line in report:
        echo(line)
    if problems:
        raise MlopsError("not enough vCPU quota: " + " | ".join(problems) + f". What to do: {WHAT_TO_DO}")
    echo("quota: enough for " + ", ".join(f"{d.pool} ({d.vcpus} vCPUs)" for d in wanted))
    return report
