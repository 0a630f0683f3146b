"""Model monitoring on Azure ML: the monitor schedule from the same YAML the local monitor
(`targets.local.monitor`) reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.project import loaders
from mlops.targets.azure.workspace import Echo, azure_errors


def schedule(client: Any, config: Path, echo: Echo = print) -> Any:
    """Create or update the model monitor schedule from its YAML (the same file the local monitor reads)."""
    schedule = loaders.load_entity(config)
    with azure_errors(f"monitor schedule {schedule.name}"):
        created = client.schedules.begin_create_or_update(schedule).result()
    echo(f"monitor schedule {schedule.name}: created or updated ({config.name})")
    return created
