"""Schedules on Azure ML: the same schedule YAML `mlops schedule show` reads (`mlops.project.schedules`), created,
enabled, disabled or triggered in the workspace like `az ml schedule create|enable|disable|trigger`.

What is sent is what azure-ai-ml's `load_schedule` produces from the file. A job schedule's pipeline needs what a
submitted pipeline needs (its compute, environments and data assets), so those are ensured first, as
`mlops pipeline run --target azure` does; a model monitor schedule is sent as `mlops monitor --target azure` sends it.
"""

from __future__ import annotations

from typing import Any

from mlops.project.layout import Layout
from mlops.project.schedules import ScheduleFile
from mlops.targets.azure.workspace import Echo, azure_errors, ensure


def create(client: Any, layout: Layout, schedule: ScheduleFile, *, disabled: bool = False, echo: Echo = print) -> Any:
    """Create or update the schedule from its YAML; `disabled`: created (or left) disabled, the way azure-ai-ml's
    own begin_disable sends it (the YAML cannot say so: `is_enabled` is read-only in its schema)."""
    entity = schedule.entity  # exactly what load_schedule produced from the file
    if schedule.job_file is not None:
        from mlops.targets.azure import jobs

        _, needed = jobs.needed_by_pipeline(layout, schedule.job_file, list(schedule.job_overrides))
        ensure(client, needed, echo)
    if disabled:
        entity._is_enabled = False  # what ScheduleOperations.begin_disable sets before it sends the schedule
    with azure_errors(f"schedule {schedule.name}"):
        created = client.schedules.begin_create_or_update(entity).result()
    state = "disabled" if disabled else "enabled"
    echo(f"schedule {schedule.name}: created or updated, {state} ({layout.relative(schedule.path)})")
    return created


def set_enabled(client: Any, name: str, enabled: bool, echo: Echo = print) -> Any:
    """`az ml schedule enable|disable --name NAME`."""
    action = "enable" if enabled else "disable"
    with azure_errors(f"schedule {name}: {action}"):
        operation = client.schedules.begin_enable if enabled else client.schedules.begin_disable
        result = operation(name=name).result()
    echo(f"schedule {name}: {action}d")
    return result


def trigger(client: Any, name: str, echo: Echo = print) -> Any:
    """`az ml schedule trigger --name NAME`: one firing now, on Azure."""
    with azure_errors(f"schedule {name}: trigger"):
        result = client.schedules.trigger(name=name)
    job = getattr(result, "job_name", None)
    echo(f"schedule {name}: triggered" + (f"; job {job}" if job else ""))
    return result


def state(client: Any, name: str) -> str:
    """`enabled` or `disabled` (and the provisioning state) of the schedule in the workspace, or `not created`."""
    from azure.core.exceptions import ResourceNotFoundError

    with azure_errors(f"schedule {name}"):
        try:
            found = client.schedules.get(name=name)
        except ResourceNotFoundError:
            return "not created in the workspace"
    enabled = "enabled" if getattr(found, "is_enabled", None) else "disabled"
    provisioning = getattr(found, "provisioning_state", None)
    return f"{enabled} in the workspace" + (f" (provisioning {provisioning})" if provisioning else "")
