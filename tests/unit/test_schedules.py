"""When a schedule fires (`mlops.project.schedules`): cron and recurrence triggers against fire times worked out by
hand, time zones across DST changes, start and end times, and triggers that can never fire or that Azure ML would
read differently."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlops.errors import MlopsError
from mlops.project.schedules import (
    NO_IANA_EQUIVALENT,
    WINDOWS_ZONES,
    Cron,
    TriggerError,
    azure_cron_problems,
    create_job_of,
    document_problems,
    fire_times,
    make_trigger,
    parse_cron,
    recurrence,
    render_time,
    zone,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


def fires(rule, count=5, after=NEW_YEAR, time_zone=None, start=None, end=None) -> list[datetime]:
    """The fire times as UTC instants (what Azure would start the jobs at)."""
    trigger = make_trigger(rule, time_zone, start, end)
    return [moment.astimezone(UTC) for moment in fire_times(trigger, count, after)]


def wall(rule, count=5, after=NEW_YEAR, time_zone=None, start=None, end=None) -> list[str]:
    """The fire times as wall-clock strings in the trigger's zone."""
    trigger = make_trigger(rule, time_zone, start, end)
    return [moment.strftime("%a %Y-%m-%d %H:%M %Z") for moment in fire_times(trigger, count, after)]


# --- cron ----------------------------------------------------------------------------------------------------------


def test_cron_steps_and_ranges_on_weekdays_named():
    # Friday 2026-03-27 from 08:00: every 20 minutes in hours 9-10, then the next weekday is Monday the 30th.
    assert fires(parse_cron("*/20 9-10 * * mon-fri"), 8, after=utc(2026, 3, 27, 8)) == [
        utc(2026, 3, 27, 9, 0),
        utc(2026, 3, 27, 9, 20),
        utc(2026, 3, 27, 9, 40),
        utc(2026, 3, 27, 10, 0),
        utc(2026, 3, 27, 10, 20),
        utc(2026, 3, 27, 10, 40),
        utc(2026, 3, 30, 9, 0),
        utc(2026, 3, 30, 9, 20),
    ]


def test_cron_lists_and_a_step_over_a_range():
    assert fires(parse_cron("5,35 1,13 * * *"), 5, after=utc(2026, 5, 1)) == [
        utc(2026, 5, 1, 1, 5),
        utc(2026, 5, 1, 1, 35),
        utc(2026, 5, 1, 13, 5),
        utc(2026, 5, 1, 13, 35),
        utc(2026, 5, 2, 1, 5),
    ]
    assert parse_cron("10-50/20 * * * *").minutes == (10, 30, 50)


def test_cron_fires_from_after_inclusive_and_later_on_the_same_day():
    assert fires(parse_cron("0 12 * * *"), 2, after=utc(2026, 5, 1, 12)) == [utc(2026, 5, 1, 12), utc(2026, 5, 2, 12)]
    assert fires(parse_cron("0 12 * * *"), 1, after=utc(2026, 5, 1, 12, 0, 1)) == [utc(2026, 5, 2, 12)]


def test_cron_day_of_month_or_day_of_week_when_both_are_restricted():
    # January 2026: Fridays are the 2nd, 9th, 16th, 23rd and 30th; the 13th is a Tuesday.
    assert [d.day for d in fires(parse_cron("0 0 13 * 5"), 6)] == [2, 9, 13, 16, 23, 30]


def test_cron_a_day_field_starting_with_star_is_anded_with_the_day_of_week():
    # `*/2` (odd days) counts as unrestricted in cron's rule, so it is ANDed: Fridays on odd days only.
    assert fires(parse_cron("0 0 */2 * 5"), 3) == [utc(2026, 1, 9), utc(2026, 1, 23), utc(2026, 2, 13)]


def test_cron_sunday_is_0_7_or_its_name_and_months_take_names():
    assert parse_cron("0 0 * * 0").weekdays == parse_cron("0 0 * * 7").weekdays == parse_cron("0 0 * * SUN").weekdays
    assert parse_cron("0 0 * * sunday").weekdays == frozenset({0})
    assert parse_cron("0 0 1 jan,Jul *").months == frozenset({1, 7})
    assert fires(parse_cron("0 0 1 jan,jul *"), 3) == [utc(2026, 1, 1), utc(2026, 7, 1), utc(2027, 1, 1)]


def test_cron_in_amsterdam_across_the_spring_dst_change():
    # 2026-03-29 02:00 CET -> 03:00 CEST: 06:00 local is 05:00 UTC before and 04:00 UTC from that Sunday on.
    assert fires(parse_cron("0 6 * * *"), 3, after=utc(2026, 3, 28), time_zone="Europe/Amsterdam") == [
        utc(2026, 3, 28, 5),
        utc(2026, 3, 29, 4),
        utc(2026, 3, 30, 4),
    ]
    # 02:30 does not exist on 2026-03-29: it fires half an hour after the change, at 03:30 CEST (01:30 UTC).
    assert wall(parse_cron("30 2 * * *"), 3, after=utc(2026, 3, 28), time_zone="Europe/Amsterdam") == [
        "Sat 2026-03-28 02:30 CET",
        "Sun 2026-03-29 03:30 CEST",
        "Mon 2026-03-30 02:30 CEST",
    ]


def test_cron_in_a_windows_zone_across_the_autumn_dst_change_fires_once():
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; it fires once, the first time (00:30 UTC).
    assert fires(parse_cron("30 2 * * *"), 3, after=utc(2026, 10, 24), time_zone="W. Europe Standard Time") == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_cron_a_wall_time_shifted_by_the_gap_onto_another_is_fired_once():
    # 02:30 and 03:30 both land on 03:30 CEST on 2026-03-29.
    assert fires(parse_cron("30 2,3 * * *"), 3, after=utc(2026, 3, 29), time_zone="Europe/Amsterdam") == [
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
        utc(2026, 3, 30, 1, 30),
    ]


def test_cron_start_and_end_time_cut_the_fire_times():
    rule = parse_cron("0 12 * * *")
    times = fires(rule, 5, after=utc(2026, 1, 1), start="2026-03-01T00:00:00", end="2026-03-03T12:00:00")
    assert times == [utc(2026, 3, 1, 12), utc(2026, 3, 2, 12), utc(2026, 3, 3, 12)]  # end_time itself fires
    assert fires(rule, 5, after=utc(2026, 3, 4), end="2026-03-03T12:00:00") == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 0 30 2 *", "never fires: day 30 never occurs in Feb"),
        ("0 0 31 4,6,9,11 *", "never fires: day 31 never occurs in Apr,Jun,Sep,Nov"),
        ("0 6 * *", "has 4 field(s); expected 5"),
        ("61 * * * *", "MINUTES '61': 61 is out of range 0-59"),
        ("0 24 * * *", "HOURS '24': 24 is out of range 0-23"),
        ("0 0 * * 8", "DAYS-OF-WEEK '8': 8 is out of range 0-7"),
        ("0 0 0 * *", "DAYS '0': 0 is out of range 1-31"),
        ("5/15 * * * *", "write '5/15' as a range with a step (5-59/15)"),
        ("*/0 * * * *", "a step must be at least 1"),
        ("0 5-1 * * *", "the range 5-1 runs backwards"),
        ("0 0 * * funday", "'funday' is not a number or a name"),
        ("0 L * * *", "'l' is not a number"),
        ("0 0 ? * *", "'?' is not *, a value, a range"),
    ],
)
def test_a_cron_that_cannot_fire_or_does_not_parse_is_refused_naming_the_field(expression, message):
    with pytest.raises(TriggerError, match="expression") as caught:
        parse_cron(expression)
    assert caught.value.field == "expression"
    assert message in caught.value.message


def test_the_cron_loop_is_bounded_even_for_a_rule_that_skipped_the_check():
    never = Cron(
        "0 0 30 2 *", ("0", "0", "30", "2", "*"), (0,), (0,), frozenset({30}), frozenset({2}), frozenset(range(7))
    )
    with pytest.raises(TriggerError, match="does not fire in the 2935 days up to"):
        fires(never, 1)


def test_february_29_fires_in_leap_years_only_and_a_day_of_week_rescues_february_30():
    assert fires(parse_cron("0 0 29 2 *"), 2) == [utc(2028, 2, 29), utc(2032, 2, 29)]
    assert fires(parse_cron("0 0 30 2 1"), 1, after=utc(2026, 2, 1)) == [utc(2026, 2, 2)]  # Mondays in February


def test_what_azure_ml_reads_differently_in_a_cron():
    assert azure_cron_problems(parse_cron("0 6 * * 1")) == []
    assert azure_cron_problems(parse_cron("17 4 * * 0-6")) == []
    (days,) = azure_cron_problems(parse_cron("0 0 1 * *"))
    assert "DAYS is '1'" in days and "treats them as *" in days
    (months,) = azure_cron_problems(parse_cron("0 0 * 1-3 *"))
    assert "MONTHS is '1-3'" in months
    (sunday,) = azure_cron_problems(parse_cron("0 0 * * 6,7"))
    assert "takes 0-6 (0 = Sunday)" in sunday
    assert len(azure_cron_problems(parse_cron("0 0 * * 5-7"))) == 1
    assert azure_cron_problems(parse_cron("0 0 * * */7")) == []  # a step of 7, not day 7


# --- recurrence ----------------------------------------------------------------------------------------------------


def test_week_recurrence_on_week_days_every_second_week_from_start_time():
    # 2027-01-04 is a Monday: weeks 0, 2, 4 ... from it; Mondays and Thursdays at 02:30.
    rule = recurrence("week", 2, 2, 30, ["monday", "thursday"])
    assert fires(rule, 5, after=utc(2026, 12, 1), start="2027-01-04T00:00:00") == [
        utc(2027, 1, 4, 2, 30),
        utc(2027, 1, 7, 2, 30),
        utc(2027, 1, 18, 2, 30),
        utc(2027, 1, 21, 2, 30),
        utc(2027, 2, 1, 2, 30),
    ]


def test_week_recurrence_counts_weeks_from_the_week_of_a_midweek_start():
    # Start Wednesday 2026-01-07: its week (Mon 5th) is week 0, so the Monday of that week is before the start,
    # Friday the 9th fires, the next fires are in the week of the 19th.
    rule = recurrence("week", 2, 8, 0, ["Monday", "Friday"])
    assert fires(rule, 3, start="2026-01-07T12:00:00") == [utc(2026, 1, 9, 8), utc(2026, 1, 19, 8), utc(2026, 1, 23, 8)]


def test_week_recurrence_without_week_days_fires_on_the_start_weekday():
    rule = recurrence("week", 1, 7, 15)
    assert fires(rule, 2, start="2026-01-07T00:00:00") == [utc(2026, 1, 7, 7, 15), utc(2026, 1, 14, 7, 15)]


def test_day_recurrence_with_lists_of_hours_and_minutes():
    rule = recurrence("day", 1, [18, 6], [30, 0])
    assert fires(rule, 5, start="2026-01-01T00:00:00") == [
        utc(2026, 1, 1, 6, 0),
        utc(2026, 1, 1, 6, 30),
        utc(2026, 1, 1, 18, 0),
        utc(2026, 1, 1, 18, 30),
        utc(2026, 1, 2, 6, 0),
    ]


def test_day_recurrence_with_interval_3_and_no_pattern_keeps_the_start_time_of_day_across_dst():
    # From Friday 2026-03-20 07:45 CET, every third day: 23rd, 26th, 29th (CEST from that morning), 1 April.
    rule = recurrence("day", 3)
    assert wall(rule, 4, after=utc(2026, 3, 21), time_zone="Europe/Amsterdam", start="2026-03-20T07:45:00") == [
        "Mon 2026-03-23 07:45 CET",
        "Thu 2026-03-26 07:45 CET",
        "Sun 2026-03-29 07:45 CEST",
        "Wed 2026-04-01 07:45 CEST",
    ]


def test_month_recurrence_on_month_days_skips_days_a_month_lacks():
    rule = recurrence("month", 1, 6, 0, month_days=[31, 1, 15])
    days = [(d.month, d.day) for d in fires(rule, 8, start="2026-01-01T00:00:00")]
    assert days == [(1, 1), (1, 15), (1, 31), (2, 1), (2, 15), (3, 1), (3, 15), (3, 31)]


def test_month_recurrence_every_second_month_and_on_week_days():
    every_other = recurrence("month", 2, 9, 0, month_days=15)
    assert [d.month for d in fires(every_other, 3, start="2026-01-10T00:00:00")] == [1, 3, 5]
    mondays = recurrence("month", 1, 9, 0, week_days="monday")
    assert [d.day for d in fires(mondays, 5, start="2026-02-01T00:00:00")] == [2, 9, 16, 23, 2]


def test_a_start_time_in_the_future_is_the_first_bound():
    rule = recurrence("day", 1, 9, 0)
    # 09:00 on the start day is before start_time (12:00): the first fire is the next morning.
    assert fires(rule, 2, after=utc(2026, 1, 1), start="2030-06-01T12:00:00") == [
        utc(2030, 6, 2, 9),
        utc(2030, 6, 3, 9),
    ]


def test_asked_from_the_middle_of_a_period_its_remaining_fires_come_first():
    fortnightly = recurrence("week", 2, 2, 30, ["monday", "thursday"])
    # Tuesday 2027-01-19 is in week 2 from the start: its Thursday still fires, then week 4.
    after = utc(2027, 1, 19, 12)
    assert fires(fortnightly, 3, after=after, start="2027-01-04T00:00:00") == [
        utc(2027, 1, 21, 2, 30),
        utc(2027, 2, 1, 2, 30),
        utc(2027, 2, 4, 2, 30),
    ]
    monthly = recurrence("month", 1, 6, 0, month_days=[1, 28])
    assert fires(monthly, 2, after=utc(2026, 5, 10), start="2026-01-01T00:00:00") == [
        utc(2026, 5, 28, 6),
        utc(2026, 6, 1, 6),
    ]
    every_third_day = recurrence("day", 3)
    assert fires(every_third_day, 2, after=utc(2026, 4, 2), start="2026-03-20T07:45:00") == [
        utc(2026, 4, 4, 7, 45),
        utc(2026, 4, 7, 7, 45),
    ]


def test_minute_and_hour_recurrences_step_from_start_time_in_elapsed_time():
    hourly = recurrence("hour", 5)
    # Anchored at 01:10 UTC; asked from 12:00, the next steps are 16:10 and 21:10.
    assert fires(hourly, 2, after=utc(2026, 3, 27, 12), start="2026-03-27T01:10:00") == [
        utc(2026, 3, 27, 16, 10),
        utc(2026, 3, 27, 21, 10),
    ]
    # Anchored at 00:30 CET (23:30 UTC the day before); from 00:00 UTC on 2026-03-29 the steps are 90 minutes of
    # elapsed time apart, while the wall clock jumps an hour at 01:00 UTC (02:00 CET -> 03:00 CEST).
    every_90 = recurrence("minute", 90)
    args = {"after": utc(2026, 3, 29), "time_zone": "Europe/Amsterdam", "start": "2026-03-29T00:30:00"}
    assert fires(every_90, 3, **args) == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 30), utc(2026, 3, 29, 4, 0)]
    assert wall(every_90, 3, **args) == [
        "Sun 2026-03-29 03:00 CEST",
        "Sun 2026-03-29 04:30 CEST",
        "Sun 2026-03-29 06:00 CEST",
    ]


def test_a_recurrence_end_time_stops_it():
    rule = recurrence("week", 1, 2, 30, "monday")
    assert fires(rule, 10, start="2026-01-05T00:00:00", end="2026-01-19T02:30:00") == [
        utc(2026, 1, 5, 2, 30),
        utc(2026, 1, 12, 2, 30),
        utc(2026, 1, 19, 2, 30),
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"frequency": "year", "interval": 1}, "frequency", "expected one of minute, hour, day, week, month"),
        ({"frequency": "day", "interval": 0}, "interval", "at least 1"),
        ({"frequency": "day", "interval": "2"}, "interval", "expected a whole number"),
        ({"frequency": "day", "interval": 1, "hours": 24, "minutes": 0}, "schedule.hours", "0-23"),
        ({"frequency": "day", "interval": 1, "hours": 1, "minutes": [0, 60]}, "schedule.minutes", "0-59"),
        ({"frequency": "week", "interval": 1, "hours": 1, "minutes": 0, "week_days": "mon"}, "schedule.week_days", ""),
        ({"frequency": "day", "interval": 1, "hours": 1}, "schedule.minutes", "missing or empty"),
        ({"frequency": "hour", "interval": 1, "hours": 1, "minutes": 0}, "schedule", "goes with frequency day"),
        (
            {"frequency": "day", "interval": 1, "hours": 1, "minutes": 0, "week_days": "monday"},
            "schedule.week_days",
            "",
        ),
        ({"frequency": "week", "interval": 1, "hours": 1, "minutes": 0, "month_days": 1}, "schedule.month_days", ""),
        (
            {"frequency": "month", "interval": 1, "hours": 1, "minutes": 0, "month_days": 1, "week_days": "monday"},
            "schedule",
            "not both",
        ),
        ({"frequency": "month", "interval": 1, "hours": 1, "minutes": 0, "month_days": 32}, "schedule.month_days", ""),
    ],
)
def test_a_bad_recurrence_is_refused_naming_the_field(fields, field, message):
    with pytest.raises(TriggerError) as caught:
        recurrence(**fields)
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_month_recurrence_that_never_fires_is_refused_not_looped_on():
    # Every 12 months from February: day 30 never comes.
    rule = recurrence("month", 12, 1, 0, month_days=30)
    with pytest.raises(TriggerError, match=r"never fires: day 30 never occurs .*every 12 month") as caught:
        fires(rule, 1, start="2026-02-01T00:00:00")
    assert caught.value.field == "schedule.month_days"
    # Every 48 months from a February of a non-leap year: every visited February has 28 days. Bounded, then refused.
    leap_miss = recurrence("month", 48, 1, 0, month_days=29)
    with pytest.raises(TriggerError, match="no fire time in the 400 years"):
        fires(leap_miss, 1, start="2027-02-01T00:00:00")


# --- time zones, start and end -------------------------------------------------------------------------------------


def test_every_azure_ml_time_zone_is_mapped_to_a_zone_this_machine_knows():
    from azure.ai.ml.constants import TimeZone

    assert set(WINDOWS_ZONES) | NO_IANA_EQUIVALENT == {tz.value for tz in TimeZone}
    for windows in WINDOWS_ZONES:
        assert zone(windows, azure=True).utcoffset(datetime(2026, 1, 1)) is not None, windows


def test_windows_and_iana_names_and_what_a_schedule_file_may_name():
    assert zone("W. Europe Standard Time").key == "Europe/Berlin"
    assert zone("Pacific Standard Time").key == "America/Los_Angeles"
    assert zone("Europe/Amsterdam").key == "Europe/Amsterdam"  # IANA: fine for the pure functions
    assert zone(None) is UTC
    with pytest.raises(TriggerError, match="not an Azure ML time zone") as caught:
        zone("Europe/Amsterdam", azure=True)
    assert "'W. Europe Standard Time' keeps the same clock as Europe/Amsterdam" in caught.value.message
    with pytest.raises(TriggerError, match="write it as Azure ML spells it, 'UTC'"):
        zone("utc", azure=True)
    with pytest.raises(TriggerError, match="retired Windows zone with no IANA equivalent"):
        zone("Mid-Atlantic Standard Time")
    with pytest.raises(TriggerError, match="not a time zone this machine knows") as caught:
        zone("Mars/Olympus_Mons")
    assert caught.value.field == "time_zone"


def test_start_time_without_an_offset_is_wall_time_in_the_zone_and_with_one_is_an_instant():
    rule = parse_cron("0 * * * *")
    local = make_trigger(rule, "Tokyo Standard Time", "2026-06-01T09:00:00")
    assert local.start == utc(2026, 6, 1, 0)
    offset = make_trigger(rule, "Tokyo Standard Time", "2026-06-01T09:00:00+02:00")
    assert offset.start == utc(2026, 6, 1, 7)
    assert make_trigger(rule, None, datetime(2026, 6, 1, 9)).start == utc(2026, 6, 1, 9)  # YAML-parsed datetime


def test_bad_start_and_end_times_are_refused_naming_the_field():
    rule = parse_cron("0 * * * *")
    with pytest.raises(TriggerError, match="expected an ISO 8601 date-time") as caught:
        make_trigger(rule, "UTC", "next monday")
    assert caught.value.field == "start_time"
    with pytest.raises(TriggerError, match="is before start_time") as caught:
        make_trigger(rule, "UTC", "2026-06-02T00:00:00", "2026-06-01T00:00:00")
    assert caught.value.field == "end_time"


def test_count_is_bounded_and_after_must_be_aware():
    trigger = make_trigger(parse_cron("0 * * * *"))
    with pytest.raises(TriggerError, match="expected 1-1000"):
        fire_times(trigger, 0, utc(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        fire_times(trigger, 1, datetime(2026, 1, 1))
    assert len(fire_times(trigger, 1000, utc(2026, 1, 1))) == 1000


def test_rendered_times_show_the_wall_clock_and_utc():
    (moment,) = fire_times(make_trigger(parse_cron("0 6 * * *"), "Europe/Amsterdam"), 1, utc(2026, 3, 30))
    assert render_time(moment) == "Mon 2026-03-30 06:00 CEST (04:00 UTC)"
    (late,) = fire_times(make_trigger(parse_cron("0 1 * * *"), "Europe/Amsterdam"), 1, utc(2026, 3, 30))
    assert render_time(late) == "Tue 2026-03-31 01:00 CEST (Mon 23:00 UTC)"
    (plain,) = fire_times(make_trigger(parse_cron("0 6 * * *")), 1, utc(2026, 3, 30))
    assert render_time(plain) == "Mon 2026-03-30 06:00 UTC"


# --- what the schedule YAML says besides its trigger ---------------------------------------------------------------


def test_create_job_as_a_path_a_mapping_of_job_settings_or_a_workspace_job(tmp_path):
    schedule = tmp_path / "schedules" / "s.yml"
    reference, job, settings = create_job_of(schedule, {"create_job": "../pipelines/train.yml"})
    assert (reference, job, settings) == ("../pipelines/train.yml", tmp_path / "pipelines" / "train.yml", ())
    document = {
        "create_job": {
            "type": "pipeline",
            "job": "../pipelines/train.yml",
            "inputs": {"estimator": "random_forest", "n_estimators": 50, "training_data": {"path": "azureml:d:2"}},
            "settings": {"force_rerun": True, "default_compute": None},
        }
    }
    _, job, settings = create_job_of(schedule, document)
    assert job == tmp_path / "pipelines" / "train.yml"
    assert settings == (
        "inputs.estimator=random_forest",
        "inputs.n_estimators=50",
        "inputs.training_data.path=azureml:d:2",
        "settings.force_rerun=true",
        "settings.default_compute=",
    )
    assert create_job_of(schedule, {"create_job": "azureml:brave_pear_1"}) == ("azureml:brave_pear_1", None, ())
    with pytest.raises(MlopsError, match=r"s\.yml: create_job\.inputs\.layers: a list cannot be applied"):
        create_job_of(schedule, {"create_job": {"job": "x.yml", "inputs": {"layers": [1, 2]}}})
    with pytest.raises(MlopsError, match=r"s\.yml: create_job: expected a job YAML path"):
        create_job_of(schedule, {"create_job": {"type": "pipeline"}})


def test_document_problems_name_and_read_only_is_enabled():
    assert document_problems({"name": "train_weekly"}) == []
    assert document_problems({"name": "train-weekly-2"}) == []
    ((field, message),) = document_problems({"name": "train weekly"})
    assert field == "name" and "letters, digits, '-' and '_'" in message
    ((field, message),) = document_problems({"name": "ok", "is_enabled": False})
    assert field == "is_enabled" and "load_schedule drops it" in message and "--disabled" in message


def test_the_repo_schedules_are_what_their_comments_say(repo_root: Path):
    import yaml

    weekly = yaml.safe_load((repo_root / "schedules" / "train-weekly.yml").read_text())
    trigger = make_trigger(
        parse_cron(weekly["trigger"]["expression"]),
        weekly["trigger"]["time_zone"],
        weekly["trigger"]["start_time"],
    )
    times = fire_times(trigger, 30, utc(2026, 3, 1))
    assert {(t.strftime("%a %H:%M"), t.tzinfo.key) for t in times} == {("Mon 06:00", "Europe/Berlin")}
