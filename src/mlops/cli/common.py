"""What the verbs share: exit codes, the parent parsers for flags several verbs take, the project lookup."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.project.layout import Layout, ModelLayout

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
TARGETS = ("local", "azure")
# The verbs that read or write the local state (runs, registry, serving): each starts with the stale-run sweep.
LOCAL_STATE_VERBS = frozenset({"run", "pipeline", "serve", "batch-score", "monitor"})


class SharedFlags:
    """Parent parsers (argparse `parents=`), so a flag several verbs take is declared once."""

    def __init__(self) -> None:
        self.run = argparse.ArgumentParser(add_help=False)
        self.run.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a field like `az ml job create --set`, e.g. --set inputs.estimator=random_forest",
        )
        self.run.add_argument("--force-rerun", action="store_true", help="run every step even when it could be reused")
        self.run.add_argument("--stream", action="store_true", help="show each step's log as it runs")

        self.target = argparse.ArgumentParser(add_help=False)
        self.target.add_argument("--target", choices=TARGETS, default="local", help="where to run (default: local)")

        self.wait = argparse.ArgumentParser(add_help=False)
        self.wait.add_argument(
            "--wait", action="store_true", help="azure: stream the job and exit non-zero if it fails"
        )

        self.model_name = argparse.ArgumentParser(add_help=False)
        self.model_name.add_argument(
            "--model", help="the model definition models/NAME.yml (default: the project's only model)"
        )

        self.model = argparse.ArgumentParser(add_help=False)
        self.model.add_argument(
            "--model",
            help="NAME:VERSION, or NAME for its champion (models/NAME.yml; default: the project's only model)",
        )


def sweep_stale_runs(args: argparse.Namespace) -> None:
    """Before a verb uses the local state: mark FAILED the RUNNING runs whose `mlops` process is gone (SIGKILL, a
    crash), and say how many on one line. Silent when there are none or there is no project (the verb says so)."""
    if args.verb not in LOCAL_STATE_VERBS or getattr(args, "target", "local") != "local":
        return
    from mlops.errors import MlopsError
    from mlops.project.layout import Layout

    file = getattr(args, "file", None)  # `pipeline run FILE` finds its project from the file, as the run does
    try:
        state = Layout.find(Path(file).resolve().parent if file else None).state
    except MlopsError:
        return
    from mlops.targets.local import tracking

    marked = tracking.mark_stale_runs(state)
    if marked:
        print(
            f"mlops: marked {marked} stale run(s) FAILED in {state.root}: the mlops process that ran them is gone",
            file=sys.stderr,
        )


def layout() -> Layout:
    from mlops.project.layout import Layout

    return Layout.find()


def azure_client(project: Layout) -> Any:
    """The workspace's MLClient, announcing which workspace it talks to."""
    from mlops.targets.azure import workspace

    config = workspace.workspace_config(project)
    print(f"workspace {config.workspace_name} (resource group {config.resource_group})")
    return workspace.ml_client(config)


def model_layout(spec: str | None) -> ModelLayout:
    """The files of the model `--model NAME[:VERSION]` names (models/NAME.yml), or of the project's only model."""
    return layout().for_model(spec)


def local_model(model: ModelLayout, spec: str | None) -> Any:
    """`--model` resolved in the local registry: a version, or the model's champion."""
    return model.catalog.model(spec or model.name)


def request_file(model: ModelLayout, given: Path | None) -> Path:
    from mlops.errors import MlopsError

    file = given or model.sample_request
    if not file.is_file():
        raise MlopsError(f"{file}: file not found")
    return file
