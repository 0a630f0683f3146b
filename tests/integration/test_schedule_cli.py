"""`mlops schedule` on schedule YAML: the repo's schedules shown, and fired once on the local target against a copy
of the fixture project (the same triggers, create_job pointed at its pipeline); what only Azure does refused locally
with exit 2; `mlops validate` on schedules; and the Azure glue against a fake MLClient (what is sent = what
load_schedule produces from the file)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from mlops.cli import main, schedule_verbs
from mlops.errors import MlopsError
from mlops.project import loaders as azureml
from mlops.project import schedules
from mlops.project.layout import Layout
from mlops.project.validate import discover
from mlops.targets.azure import schedules as azure_schedules

REPO = Path(__file__).resolve().parents[2]
WEEKLY = REPO / "schedules" / "train-weekly.yml"
RECURRENCE = REPO / "schedules" / "train-recurrence.yml"
MONITOR = REPO / "monitoring" / "monitor.yml"
MINI_PIPELINE = "../pipelines/scale_and_total.yml"


def mlops(*args: object) -> int:
    return main([str(a) for a in args])


def write_schedule(project: Path, filename: str, source: Path, **changes: object) -> Path:
    """A copy of a repo schedule in the project's schedules/, its create_job pointed at the fixture pipeline."""
    document = yaml.safe_load(source.read_text())
    document["create_job"] = MINI_PIPELINE
    document.update(changes)
    file = project / "schedules" / filename
    file.parent.mkdir(exist_ok=True)
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    return file


@pytest.fixture
def scheduled(miniproject: Path) -> Path:
    """The fixture project with the repo's two job schedules (their triggers unchanged)."""
    write_schedule(miniproject, "train-weekly.yml", WEEKLY)
    write_schedule(miniproject, "train-recurrence.yml", RECURRENCE)
    return miniproject


def total_of(out: str) -> str:
    """The pipeline's `total` output, from the `output total: PATH` line `mlops job run` prints."""
    (folder,) = re.findall(r"^  output total: (.+)$", out, flags=re.MULTILINE)
    return (Path(folder) / "total.txt").read_text().strip()


# --- show ----------------------------------------------------------------------------------------------------------


def test_show_the_weekly_cron_across_the_dst_change(capsys):
    assert mlops("schedule", "show", WEEKLY, "--from", "2026-03-20T00:00", "--count", "3") == 0
    assert capsys.readouterr().out.splitlines() == [
        "schedule train_weekly (schedules/train-weekly.yml): creates job pipelines/train.yml",
        'trigger: cron "0 6 * * 1", time zone W. Europe Standard Time (Europe/Berlin), from 2026-01-05 06:00 CET',
        "next 3 fire time(s) from 2026-03-20 00:00 CET:",
        "  Mon 2026-03-23 06:00 CET (05:00 UTC)",
        "  Mon 2026-03-30 06:00 CEST (04:00 UTC)",
        "  Mon 2026-04-06 06:00 CEST (04:00 UTC)",
    ]


def test_show_the_recurrence_from_its_future_start_and_up_to_its_end(capsys):
    assert mlops("schedule", "show", RECURRENCE, "--from", "2026-12-01T00:00", "--count", "3") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "trigger: recurrence every 2 weeks on monday, thursday at 02:30, time zone UTC, from 2027-01-04 00:00 UTC, "
        "until 2027-12-31 23:59 UTC"
    )
    assert lines[3:] == ["  Mon 2027-01-04 02:30 UTC", "  Thu 2027-01-07 02:30 UTC", "  Mon 2027-01-18 02:30 UTC"]
    # 2027-12-20 is week 50 from the start (even: it fires); week 52 begins 2028-01-03, after end_time.
    assert mlops("schedule", "show", RECURRENCE, "--from", "2027-12-20T00:00", "--count", "5") == 0
    assert capsys.readouterr().out.splitlines()[2:] == [
        "next 2 fire time(s) from 2027-12-20 00:00 UTC:",
        "  Mon 2027-12-20 02:30 UTC",
        "  Thu 2027-12-23 02:30 UTC",
        "  (then end_time)",
    ]
    assert mlops("schedule", "show", RECURRENCE, "--from", "2028-01-01T00:00") == 0
    assert "no fire times from 2028-01-01 00:00 UTC: end_time has passed" in capsys.readouterr().out


def test_show_the_model_monitor_schedule(capsys):
    assert mlops("schedule", "show", MONITOR, "--from", "2026-05-01T04:00", "--count", "2") == 0
    assert capsys.readouterr().out.splitlines() == [
        "schedule diabetes_classifier_monitoring (monitoring/monitor.yml): creates the model monitor (create_monitor)",
        "trigger: recurrence every day at 03:15, time zone UTC",
        "next 2 fire time(s) from 2026-05-01 04:00 UTC:",
        "  Sat 2026-05-02 03:15 UTC",
        "  Sun 2026-05-03 03:15 UTC",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "error: --count: 0: expected 1-1000"),
        (["--from", "next week"], "error: --from 'next week': expected an ISO 8601 date-time"),
    ],
)
def test_show_refuses_bad_options(capsys, args, message):
    assert mlops("schedule", "show", WEEKLY, *args) == 2
    assert capsys.readouterr().err.startswith(message)


def test_show_refuses_a_file_that_is_no_schedule(capsys):
    assert mlops("schedule", "show", REPO / "pipelines" / "train.yml") == 2
    assert "train.yml: $schema: expected a schedule (schedule.schema.json or monitorSchedule" in capsys.readouterr().err


# --- trigger: one firing now, on the local target ------------------------------------------------------------------


def test_trigger_runs_the_job_the_schedule_creates_like_job_run(scheduled, capsys):
    assert mlops("schedule", "trigger", "schedules/train-weekly.yml") == 0
    out = capsys.readouterr().out
    assert "schedule train_weekly: one firing now, pipelines/scale_and_total.yml on the local target" in out
    assert total_of(out) == "18.0"  # numbers 1,2,3 scaled by the pipeline's factor 3, summed
    assert mlops("schedule", "trigger", "schedules/train-recurrence.yml", "--set", "inputs.factor=2") == 0
    assert total_of(capsys.readouterr().out) == "12.0"


def test_trigger_applies_the_schedules_own_job_settings_before_set(scheduled, capsys):
    write_schedule(
        scheduled,
        "doubled.yml",
        WEEKLY,
        name="doubled",
        create_job={"type": "pipeline", "job": MINI_PIPELINE, "inputs": {"factor": 2}},
    )
    assert mlops("validate", "schedules/doubled.yml") == 0
    capsys.readouterr()
    assert mlops("schedule", "trigger", "schedules/doubled.yml") == 0
    assert total_of(capsys.readouterr().out) == "12.0"
    assert mlops("schedule", "trigger", "schedules/doubled.yml", "--set", "inputs.factor=4") == 0
    assert total_of(capsys.readouterr().out) == "24.0"


def test_trigger_of_a_monitor_schedule_points_at_mlops_monitor(capsys):
    assert mlops("schedule", "trigger", MONITOR) == 2
    err = capsys.readouterr().err
    assert "monitor.yml: create_monitor: a monitor schedule runs the model monitor" in err
    assert f"`mlops monitor --config {MONITOR}`" in err


def test_trigger_of_a_workspace_job_is_refused_locally(scheduled, capsys):
    write_schedule(scheduled, "remote.yml", WEEKLY, create_job="azureml:brave_pear_1")
    assert mlops("schedule", "trigger", "schedules/remote.yml") == 2
    assert "create_job: azureml:brave_pear_1 is a job in the workspace" in capsys.readouterr().err


# --- what only Azure does ------------------------------------------------------------------------------------------


def test_create_disable_enable_without_azure_show_the_fire_times_and_exit_2(scheduled, capsys):
    assert mlops("schedule", "create", "schedules/train-weekly.yml") == 2
    captured = capsys.readouterr()
    assert "schedule train_weekly (schedules/train-weekly.yml)" in captured.out
    assert "next 5 fire time(s) from" in captured.out
    assert len([line for line in captured.out.splitlines() if line.startswith("  Mon ") and " 06:00 CE" in line]) == 5
    assert "schedules fire only on Azure ML (or from a GitHub Actions cron)" in captured.err
    assert "nothing was created. Use --target azure" in captured.err

    assert mlops("schedule", "disable", "train_recurrence") == 2
    captured = capsys.readouterr()
    assert "schedule train_recurrence (schedules/train-recurrence.yml)" in captured.out  # found by its name
    assert "nothing was disabled" in captured.err

    assert mlops("schedule", "enable", "no_such_schedule") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing was enabled" in captured.err


# --- mlops validate ------------------------------------------------------------------------------------------------


def test_validate_covers_the_schedules_folder(scheduled, repo_root, capsys):
    assert {WEEKLY, RECURRENCE} <= set(discover(Layout(repo_root)))
    assert scheduled / "schedules" / "train-weekly.yml" in discover(Layout(scheduled))
    assert mlops("validate") == 0
    assert "valid" in capsys.readouterr().out


BROKEN = {
    "cron-days": (
        {"trigger": {"type": "cron", "expression": "0 6 1 * *"}},
        "trigger.expression: DAYS is '1', but Azure ML ignores DAYS and MONTHS",
    ),
    "cron-sunday-7": (
        {"trigger": {"type": "cron", "expression": "0 6 * * 7"}},
        "trigger.expression: DAYS-OF-WEEK '7': Azure ML takes 0-6",
    ),
    "impossible-cron": (
        {"trigger": {"type": "cron", "expression": "0 0 30 2 *"}},
        "trigger.expression: '0 0 30 2 *' never fires",
    ),
    "iana-zone": (
        {"trigger": {"type": "cron", "expression": "0 6 * * 1", "time_zone": "Europe/Amsterdam"}},
        "trigger.time_zone: 'Europe/Amsterdam' is not an Azure ML time zone",
    ),
    "end-before-start": (
        {
            "trigger": {
                "type": "cron",
                "expression": "0 6 * * 1",
                "start_time": "2026-02-01T00:00:00",
                "end_time": "2026-01-01T00:00:00",
            }
        },
        "trigger.end_time: 2026-01-01 00:00 UTC is before start_time 2026-02-01 00:00 UTC",
    ),
    "month-days-weekly": (
        {
            "trigger": {
                "type": "recurrence",
                "frequency": "week",
                "interval": 1,
                "schedule": {"hours": 1, "minutes": 0, "month_days": [1]},
            }
        },
        "trigger.schedule.month_days: goes with frequency month, not week",
    ),
    "is-enabled": ({"is_enabled": False}, "is_enabled: read-only in azure-ai-ml's schedule schema"),
    "name": ({"name": "train weekly"}, "name: 'train weekly': use letters, digits"),
    "job-setting": (
        {"create_job": {"type": "pipeline", "job": MINI_PIPELINE, "inputs": {"factr": 2}}},
        "create_job: inputs.factr: the pipeline declares no input 'factr'; did you mean 'factor'?",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_validate_names_the_schedule_file_and_field(scheduled, capsys, case):
    changes, expected = BROKEN[case]
    write_schedule(scheduled, "broken.yml", WEEKLY, **changes)
    assert mlops("validate") == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("schedules/broken.yml: ")]
    assert any(expected in line for line in lines), lines


@pytest.mark.parametrize("case", ["cron-days", "iana-zone", "month-days-weekly", "job-setting", "name"])
def test_validate_and_show_or_trigger_agree(scheduled, capsys, case):
    """What validate lists (exit 1) a firing refuses with the same words (exit 2)."""
    changes, expected = BROKEN[case]
    write_schedule(scheduled, "broken.yml", WEEKLY, **changes)
    assert mlops("schedule", "trigger", "schedules/broken.yml") == 2
    assert f"schedules/broken.yml: {expected}" in capsys.readouterr().err


def test_validate_reports_the_created_jobs_own_problems_under_create_job(scheduled, capsys):
    pipeline = scheduled / "pipelines" / "scale_and_total.yml"
    pipeline.write_text(pipeline.read_text().replace("factor: ${{parent.inputs.factor}}", "factr: 1"))
    assert mlops("validate", "schedules/train-weekly.yml") == 1
    out = capsys.readouterr().out
    assert "schedules/train-weekly.yml: create_job: pipelines/scale_and_total.yml: jobs.scale" in out


def test_validate_refuses_a_missing_create_job_file(scheduled, capsys):
    write_schedule(scheduled, "broken.yml", WEEKLY, create_job="../pipelines/nope.yml")
    assert mlops("validate", "schedules/broken.yml") == 1
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("schedules/broken.yml: load_schedule rejected it")]
    assert '"create_job": [ "No such file or directory: ' in line and "nope.yml" in line


# --- Azure, against a fake MLClient --------------------------------------------------------------------------------


class FakeSchedules:
    def __init__(self, existing=None, fail=False):
        self.sent: list = []
        self.calls: list = []
        self.existing = existing
        self.fail = fail

    def begin_create_or_update(self, schedule):
        if self.fail:
            raise HttpResponseError(message="(UserError) The schedule name is invalid.\nmore")
        self.sent.append(schedule)
        return SimpleNamespace(result=lambda: schedule)

    def begin_disable(self, name):
        self.calls.append(("disable", name))
        return SimpleNamespace(result=lambda: None)

    def begin_enable(self, name):
        self.calls.append(("enable", name))
        return SimpleNamespace(result=lambda: None)

    def trigger(self, name):
        self.calls.append(("trigger", name))
        return SimpleNamespace(job_name="brave_pear_1", schedule_action_type="CreateJob")

    def get(self, name):
        if self.existing is None:
            raise ResourceNotFoundError(f"{name} not found")
        return self.existing


class FakeAssets:
    def __init__(self):
        self.sent: list = []

    def get(self, name, version=None, label=None):
        raise ResourceNotFoundError(f"{name}:{version} not found")

    def create_or_update(self, entity):
        self.sent.append(entity)
        return entity

    def begin_create_or_update(self, entity):
        self.sent.append(entity)
        return SimpleNamespace(result=lambda: entity)


def fake_client(**schedules_options) -> SimpleNamespace:
    return SimpleNamespace(
        schedules=FakeSchedules(**schedules_options),
        compute=FakeAssets(),
        environments=FakeAssets(),
        data=FakeAssets(),
        components=FakeAssets(),
    )


def quiet(_line: str) -> None:
    pass


def test_create_sends_the_schedule_as_loaded_after_what_its_pipeline_needs(repo_root):
    client = fake_client()
    azure_schedules.create(client, Layout(repo_root), schedules.load(WEEKLY), echo=quiet)
    (sent,) = client.schedules.sent
    assert sent._to_dict() == azureml.load_entity(WEEKLY)._to_dict()
    assert sent._to_dict()["trigger"]["expression"] == "0 6 * * 1"
    assert sent._to_rest_object().properties.is_enabled is None  # the service default: enabled
    # what `mlops pipeline run pipelines/train.yml --target azure` ensures first
    assert [e.name for e in client.environments.sent] == ["diabetes-train-env"]
    assert [(d.name, d.version) for d in client.data.sent] == [("diabetes-training", "1")]
    assert client.components.sent == []  # components travel with the job


def test_create_disabled_and_a_monitor_schedule_as_loaded(repo_root):
    client = fake_client()
    azure_schedules.create(client, Layout(repo_root), schedules.load(RECURRENCE), disabled=True, echo=quiet)
    azure_schedules.create(client, Layout(repo_root), schedules.load(MONITOR), echo=quiet)
    recurrence_sent, monitor_sent = client.schedules.sent
    assert recurrence_sent._to_rest_object().properties.is_enabled is False
    assert recurrence_sent.trigger.schedule.week_days == ["monday", "thursday"]
    assert monitor_sent._to_dict() == azureml.load_entity(MONITOR)._to_dict()
    assert len(client.environments.sent) == 1  # the monitor needs nothing more ensured


def test_the_cli_on_azure_creates_toggles_triggers_and_shows(monkeypatch, capsys):
    client = fake_client(existing=SimpleNamespace(is_enabled=False, provisioning_state="Succeeded"))
    monkeypatch.setattr(schedule_verbs, "azure_client", lambda project: client)
    assert mlops("schedule", "create", WEEKLY, "--target", "azure", "--disabled") == 0
    assert mlops("schedule", "disable", "train_weekly", "--target", "azure") == 0
    assert mlops("schedule", "enable", "train_weekly", "--target", "azure") == 0
    assert mlops("schedule", "trigger", RECURRENCE, "--target", "azure") == 0
    assert mlops("schedule", "show", WEEKLY, "--target", "azure", "--count", "1") == 0
    out = capsys.readouterr().out
    assert [s.name for s in client.schedules.sent] == ["train_weekly"]
    assert client.schedules.sent[0]._is_enabled is False
    assert client.schedules.calls == [
        ("disable", "train_weekly"),
        ("enable", "train_weekly"),
        ("trigger", "train_recurrence"),
    ]
    assert "schedule train_weekly: created or updated, disabled (schedules/train-weekly.yml)" in out
    assert "schedule train_weekly: disabled\n" in out and "schedule train_weekly: enabled\n" in out
    assert "schedule train_recurrence: triggered; job brave_pear_1" in out
    assert "on Azure: disabled in the workspace (provisioning Succeeded)" in out


def test_the_cli_on_azure_refuses_local_run_flags_and_reports_azure_errors_on_one_line(monkeypatch, capsys):
    client = fake_client(fail=True)
    monkeypatch.setattr(schedule_verbs, "azure_client", lambda project: client)
    assert mlops("schedule", "trigger", WEEKLY, "--target", "azure", "--set", "inputs.seed=1") == 2
    assert "--set, --force-rerun and --stream go with the local target" in capsys.readouterr().err
    assert client.schedules.calls == []
    assert mlops("schedule", "create", MONITOR, "--target", "azure") == 2
    assert capsys.readouterr().err == (
        "error: schedule diabetes_classifier_monitoring: (UserError) The schedule name is invalid.\n"
    )
    assert mlops("schedule", "show", MONITOR, "--target", "azure", "--count", "1") == 0
    assert "on Azure: not created in the workspace" in capsys.readouterr().out


def test_a_broken_pipeline_is_refused_before_the_schedule_is_sent(scheduled, repo_root):
    pipeline = scheduled / "pipelines" / "scale_and_total.yml"
    pipeline.write_text(pipeline.read_text().replace("factor: ${{parent.inputs.factor}}", "factr: 1"))
    client = fake_client()
    with pytest.raises(MlopsError, match=r"scale_and_total\.yml"):
        azure_schedules.create(
            client, Layout(scheduled), schedules.load(scheduled / "schedules" / "train-weekly.yml"), echo=quiet
        )
    assert client.schedules.sent == []
