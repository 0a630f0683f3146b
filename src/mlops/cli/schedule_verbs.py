"""`mlops schedule show|trigger|create|disable|enable`: Azure ML schedules (schedules/*.yml, monitoring/monitor.yml),
named like `az ml schedule`.

A schedule fires on Azure ML (or from a GitHub Actions cron); the local target has no timer. Locally, `show` prints
when it would fire and `trigger` runs one firing now: the job it creates, through the local engine exactly as
`mlops job run` runs it. `create`, `disable` and `enable` act on the workspace (`--target azure`); without it they
show the fire times and exit 2, saying nothing was created.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client
from mlops.errors import MlopsError

if TYPE_CHECKING:
    from mlops.project.layout import Layout
    from mlops.project.schedules import ScheduleFile

FIRES_ONLY_ON_AZURE = (
    "schedules fire only on Azure ML (or from a GitHub Actions cron); the local target has no timer, so nothing "
    "was {done}. Use --target azure, or `mlops schedule trigger FILE` to run one firing now"
)


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    actions = verbs.add_parser(
        "schedule", help="Azure ML schedules: next fire times, one firing now, create/enable/disable on Azure"
    ).add_subparsers(dest="action", required=True)

    show = actions.add_parser(
        "show", parents=[flags.target], help="the schedule, its trigger and its next fire times (azure: and its state)"
    )
    show.add_argument(
        "file", type=Path, help="schedule YAML, e.g. schedules/train-weekly.yml or monitoring/monitor.yml"
    )
    show.add_argument("--count", type=int, default=5, help="how many fire times (default: 5)")
    show.add_argument(
        "--from",
        dest="from_time",
        metavar="DATETIME",
        help="list fire times from this ISO date-time (default: now; without an offset: in the schedule's time zone)",
    )
    show.set_defaults(func=show_schedule)

    trigger = actions.add_parser(
        "trigger",
        parents=[flags.run, flags.target],
        help="one firing now: locally the job it creates (as `mlops job run`); on Azure `az ml schedule trigger`",
    )
    trigger.add_argument("file", type=Path, help="schedule YAML with create_job, e.g. schedules/train-weekly.yml")
    trigger.set_defaults(func=trigger_schedule)

    create = actions.add_parser(
        "create", parents=[flags.target], help="create or update the schedule in the workspace (--target azure)"
    )
    create.add_argument("file", type=Path, help="schedule YAML")
    create.add_argument("--disabled", action="store_true", help="create it (or leave it) disabled")
    create.set_defaults(func=create_schedule)

    for action, what in (("disable", "stop it firing"), ("enable", "let it fire again")):
        toggle = actions.add_parser(action, parents=[flags.target], help=f"{what} (--target azure)")
        toggle.add_argument("name", help="the schedule's name (its YAML's `name`), e.g. train_weekly")
        toggle.set_defaults(func=toggle_schedule, enable=action == "enable")


def show_schedule(args: argparse.Namespace) -> int:
    schedule = _load(args.file)
    print(_describe(schedule, args.count, _from_time(args.from_time, schedule)))
    if args.target == "azure":
        from mlops.targets.azure import schedules as azure

        print(f"on Azure: {azure.state(azure_client(_project(schedule.path)), schedule.name)}")
    return EXIT_OK


def trigger_schedule(args: argparse.Namespace) -> int:
    schedule = _load(args.file)
    if args.target == "azure":
        if args.overrides or args.force_rerun or args.stream:
            raise MlopsError("--set, --force-rerun and --stream go with the local target (Azure fires it as created)")
        from mlops.targets.azure import schedules as azure

        azure.trigger(azure_client(_project(schedule.path)), schedule.name)
        return EXIT_OK
    if schedule.kind == "monitor":
        raise MlopsError(
            f"{args.file}: create_monitor: a monitor schedule runs the model monitor on a window of collected data; "
            f"locally run `mlops monitor --config {args.file}` (it reads this file)"
        )
    if schedule.job_file is None:
        raise MlopsError(
            f"{args.file}: create_job: {schedule.job_reference} is a job in the workspace; locally only a job YAML "
            "file runs (or use --target azure)"
        )
    from mlops.cli import job_verbs
    from mlops.project.schedules import override_problems

    problems = override_problems(schedule.job_file, schedule.job_overrides) if schedule.job_overrides else []
    if problems:  # the same words as `mlops validate`
        raise MlopsError(f"{args.file}: create_job: {problems[0]}")

    print(f"schedule {schedule.name}: one firing now, {_relative(schedule, schedule.job_file)} on the local target")
    run = argparse.Namespace(
        file=schedule.job_file,
        overrides=[*schedule.job_overrides, *args.overrides],  # the schedule's job settings, then --set
        force_rerun=args.force_rerun,
        stream=args.stream,
        build_envs=False,
        target="local",
        wait=False,
    )
    return job_verbs.submit(run)


def create_schedule(args: argparse.Namespace) -> int:
    schedule = _load(args.file)
    if args.target != "azure":
        print(_describe(schedule, 5, datetime.now(UTC)))
        raise MlopsError(FIRES_ONLY_ON_AZURE.format(done="created"))
    from mlops.targets.azure import schedules as azure

    project = _project(schedule.path)
    azure.create(azure_client(project), project, schedule, disabled=args.disabled)
    return EXIT_OK


def toggle_schedule(args: argparse.Namespace) -> int:
    action = "enabled" if args.enable else "disabled"
    if args.target != "azure":
        local = _find_by_name(args.name)
        if local is not None:
            print(_describe(local, 5, datetime.now(UTC)))
        raise MlopsError(FIRES_ONLY_ON_AZURE.format(done=action))
    from mlops.cli.common import layout
    from mlops.targets.azure import schedules as azure

    azure.set_enabled(azure_client(layout()), args.name, args.enable)
    return EXIT_OK


# --- helpers -------------------------------------------------------------------------------------------------------


def _load(file: Path) -> ScheduleFile:
    from mlops.project import schedules

    if not file.is_file():
        raise MlopsError(f"{file}: file not found")
    return schedules.load(file)


def _project(path: Path) -> Layout:
    from mlops.project.layout import Layout

    return Layout.for_job(path)


def _relative(schedule: ScheduleFile, path: Path) -> str:
    return _project(schedule.path).relative(path)


def _from_time(text: str | None, schedule: ScheduleFile) -> datetime:
    if not text:
        return datetime.now(UTC)
    from mlops.project.schedules import TriggerError, parse_time

    try:
        moment = parse_time(text, schedule.trigger.tz, "--from")
    except TriggerError as exc:
        raise MlopsError(f"--from {exc.message}") from exc
    assert moment is not None
    return moment


def _describe(schedule: ScheduleFile, count: int, after: datetime) -> str:
    """The schedule's name, what it creates, its trigger and its next `count` fire times."""
    from mlops.project.schedules import TriggerError, fire_times, render_time

    if schedule.kind == "monitor":
        creates = "the model monitor (create_monitor)"
    elif schedule.job_file is not None:
        creates = f"job {_relative(schedule, schedule.job_file)}"
    else:
        creates = f"workspace job {schedule.job_reference}"
    lines = [
        f"schedule {schedule.name} ({_relative(schedule, schedule.path)}): creates {creates}",
        f"trigger: {schedule.trigger.describe()}",
    ]
    try:
        times = fire_times(schedule.trigger, count, after)
    except TriggerError as exc:
        where = "--count" if exc.field == "count" else f"{schedule.path}: trigger.{exc.field}"
        raise MlopsError(f"{where}: {exc.message}") from exc
    since = after.astimezone(schedule.trigger.tz).strftime("%Y-%m-%d %H:%M %Z")
    if not times:
        lines.append(f"no fire times from {since}: end_time has passed")
        return "\n".join(lines)
    lines.append(f"next {len(times)} fire time(s) from {since}:")
    lines += [f"  {render_time(moment)}" for moment in times]
    if len(times) < count:
        lines.append("  (then end_time)")
    return "\n".join(lines)


def _find_by_name(name: str) -> ScheduleFile | None:
    """The project's schedule YAML (schedules/, monitoring/) whose `name` is `name`, or None."""
    from mlops.project import loaders, schedules
    from mlops.project.layout import Layout

    try:
        root = Layout.find().root
    except MlopsError:
        return None
    for folder in (root / "schedules", root / "monitoring"):
        for file in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
            try:
                document = loaders.read_yaml(file)
            except MlopsError:
                continue
            if document.get("name") == name and (loaders.schema_name(document) or "").lower().endswith("schedule"):
                return schedules.load(file)
    return None
