"""Azure ML schedules offline: when a trigger fires, and what a schedule YAML asks for.

Pure functions over the trigger (no MLflow, no Azure client): `fire_times` gives the next N fire times of a cron or
recurrence trigger, honouring start_time, end_time and time_zone, as Azure ML defines them:

- cron (`CronTrigger`, NCrontab): `MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK` with `*`, lists, ranges and steps
  (`*/n`, `a-b/n`), day and month names. `parse_cron` reads standard 5-field cron (day of week 0-7, 7 = Sunday; when
  both DAYS and DAYS-OF-WEEK are restricted a day matches either, as in cron). Azure ML is narrower
  (`azure_cron_problems`): it ignores DAYS and MONTHS (treats them as `*`) and takes day of week 0-6, so a schedule
  file that uses them is refused rather than computed differently from Azure.
- recurrence (`RecurrenceTrigger` + `RecurrencePattern`): `frequency` minute|hour|day|week|month and `interval`
  (fire every interval-th unit, counted from start_time); for day, week and month the pattern's `hours` x `minutes`
  are the times of day, `week_days` the days of a week (week, month) and `month_days` the days of a month (month).
  Without a pattern a day/week/month recurrence fires at start_time's time of day, on its weekday or day of month.
  Periods are counted in the schedule's wall clock (weeks start on Monday); minute and hour recurrences in elapsed
  time.
- time_zone: Azure ML takes Windows time zone names (`azure.ai.ml.constants.TimeZone`); each maps to its IANA zone
  (CLDR windowsZones, territory 001) for `zoneinfo`. IANA names are accepted by `zone` (and refused in schedule files,
  which go to Azure). start_time and end_time without a UTC offset are wall times in that zone.
- DST: a wall time that does not exist (spring forward) fires at the same distance after the change (02:30 in a gap
  from 02:00 to 03:00 fires at 03:30); a wall time that happens twice (fall back) fires once, the first time.

Every loop is bounded; a trigger that can never fire is refused up front. Errors are `TriggerError(field, message)`;
`load` turns them into MlopsError lines that name the file and field.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

MAX_COUNT = 1000

# --- time zones ----------------------------------------------------------------------------------------------------

# azure.ai.ml.constants.TimeZone value -> IANA zone (CLDR common/supplemental/windowsZones.xml, territory "001",
# canonical IANA names). tests/unit/test_schedules.py checks these keys against the installed azure-ai-ml.
WINDOWS_ZONES: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12",
    "UTC-11": "Etc/GMT+11",
    "Aleutian Standard Time": "America/Adak",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Marquesas Standard Time": "Pacific/Marquesas",
    "Alaskan Standard Time": "America/Anchorage",
    "UTC-09": "Etc/GMT+9",
    "Pacific Standard Time (Mexico)": "America/Tijuana",
    "UTC-08": "Etc/GMT+8",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time (Mexico)": "America/Mazatlan",
    "Mountain Standard Time": "America/Denver",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago",
    "Easter Island Standard Time": "Pacific/Easter",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time (Mexico)": "America/Cancun",
    "Eastern Standard Time": "America/New_York",
    "Haiti Standard Time": "America/Port-au-Prince",
    "Cuba Standard Time": "America/Havana",
    "US Eastern Standard Time": "America/Indiana/Indianapolis",
    "Paraguay Standard Time": "America/Asuncion",
    "Atlantic Standard Time": "America/Halifax",
    "Venezuela Standard Time": "America/Caracas",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/La_Paz",
    "Pacific SA Standard Time": "America/Santiago",
    "Turks And Caicos Standard Time": "America/Grand_Turk",
    "Newfoundland Standard Time": "America/St_Johns",
    "Tocantins Standard Time": "America/Araguaina",
    "E. South America Standard Time": "America/Sao_Paulo",
    "SA Eastern Standard Time": "America/Cayenne",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "Greenland Standard Time": "America/Nuuk",
    "Montevideo Standard Time": "America/Montevideo",
    "Saint Pierre Standard Time": "America/Miquelon",
    "Bahia Standard Time": "America/Bahia",
    "UTC-02": "Etc/GMT+2",
    "Azores Standard Time": "Atlantic/Azores",
    "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "UTC": "Etc/UTC",
    "Morocco Standard Time": "Africa/Casablanca",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Namibia Standard Time": "Africa/Windhoek",
    "Jordan Standard Time": "Asia/Amman",
    "GTB Standard Time": "Europe/Bucharest",
    "Middle East Standard Time": "Asia/Beirut",
    "Egypt Standard Time": "Africa/Cairo",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Syria Standard Time": "Asia/Damascus",
    "West Bank Standard Time": "Asia/Hebron",
    "South Africa Standard Time": "Africa/Johannesburg",
    "FLE Standard Time": "Europe/Kyiv",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Libya Standard Time": "Africa/Tripoli",
    "Arabic Standard Time": "Asia/Baghdad",
    "Arab Standard Time": "Asia/Riyadh",
    "Belarus Standard Time": "Europe/Minsk",
    "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai",
    "Astrakhan Standard Time": "Europe/Astrakhan",
    "Azerbaijan Standard Time": "Asia/Baku",
    "Russia Time Zone 3": "Europe/Samara",
    "Mauritius Standard Time": "Indian/Mauritius",
    "Georgian Standard Time": "Asia/Tbilisi",
    "Caucasus Standard Time": "Asia/Yerevan",
    "Afghanistan Standard Time": "Asia/Kabul",
    "West Asia Standard Time": "Asia/Tashkent",
    "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
    "Pakistan Standard Time": "Asia/Karachi",
    "India Standard Time": "Asia/Kolkata",
    "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Kathmandu",
    "Central Asia Standard Time": "Asia/Bishkek",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "Myanmar Standard Time": "Asia/Yangon",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Altai Standard Time": "Asia/Barnaul",
    "W. Mongolia Standard Time": "Asia/Hovd",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "Tomsk Standard Time": "Asia/Tomsk",
    "China Standard Time": "Asia/Shanghai",
    "North Asia East Standard Time": "Asia/Irkutsk",
    "Singapore Standard Time": "Asia/Singapore",
    "W. Australia Standard Time": "Australia/Perth",
    "Taipei Standard Time": "Asia/Taipei",
    "Ulaanbaatar Standard Time": "Asia/Ulaanbaatar",
    "North Korea Standard Time": "Asia/Pyongyang",
    "Aus Central W. Standard Time": "Australia/Eucla",
    "Transbaikal Standard Time": "Asia/Chita",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Yakutsk Standard Time": "Asia/Yakutsk",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "West Pacific Standard Time": "Pacific/Port_Moresby",
    "Tasmania Standard Time": "Australia/Hobart",
    "Vladivostok Standard Time": "Asia/Vladivostok",
    "Lord Howe Standard Time": "Australia/Lord_Howe",
    "Bougainville Standard Time": "Pacific/Bougainville",
    "Russia Time Zone 10": "Asia/Srednekolymsk",
    "Magadan Standard Time": "Asia/Magadan",
    "Norfolk Standard Time": "Pacific/Norfolk",
    "Sakhalin Standard Time": "Asia/Sakhalin",
    "Central Pacific Standard Time": "Pacific/Guadalcanal",
    "Russia Time Zone 11": "Asia/Kamchatka",
    "New Zealand Standard Time": "Pacific/Auckland",
    "UTC+12": "Etc/GMT-12",
    "Fiji Standard Time": "Pacific/Fiji",
    "Chatham Islands Standard Time": "Pacific/Chatham",
    "Tonga Standard Time": "Pacific/Tongatapu",
    "Samoa Standard Time": "Pacific/Apia",
    "Line Islands Standard Time": "Pacific/Kiritimati",
}
# In azure-ai-ml's TimeZone but retired Windows zones ("... - Old") with their own DST rules and no IANA zone (CLDR
# does not map them): refused, since their fire times cannot be computed.
NO_IANA_EQUIVALENT = frozenset({"Mid-Atlantic Standard Time", "Kamchatka Standard Time"})


class TriggerError(ValueError):
    """A trigger that cannot fire as written: `field` is its path under `trigger` (e.g. `schedule.hours`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def zone(name: str | None, *, azure: bool = False) -> tzinfo:
    """The tzinfo of a time zone name: a Windows name from azure-ai-ml's TimeZone (mapped to IANA) or, unless
    `azure` (what a schedule sent to Azure ML may name), an IANA name. None is UTC, Azure's default."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None:
        return UTC
    text = str(name)
    if text in NO_IANA_EQUIVALENT:
        raise TriggerError("time_zone", f"{text!r} is a retired Windows zone with no IANA equivalent; pick another")
    iana = WINDOWS_ZONES.get(text)
    if iana is None:
        near = next((w for w in WINDOWS_ZONES if w.lower() == text.lower()), None)
        if near:
            raise TriggerError("time_zone", f"{text!r}: write it as Azure ML spells it, {near!r}")
        if azure:
            raise TriggerError("time_zone", _not_an_azure_zone(text))
        iana = text
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        where = f" (Azure ML's {text!r})" if iana != text else ""
        raise TriggerError(
            "time_zone",
            f"{iana!r}{where} is not a time zone this machine knows (expected a Windows name from azure-ai-ml's "
            "TimeZone, e.g. 'UTC' or 'W. Europe Standard Time', or an IANA name; without system zone data, "
            "`pip install tzdata`)",
        ) from exc


def _not_an_azure_zone(text: str) -> str:
    message = (
        f"{text!r} is not an Azure ML time zone: Azure ML takes Windows time zone names "
        "(azure.ai.ml.constants.TimeZone), e.g. 'UTC', 'W. Europe Standard Time', 'Pacific Standard Time'"
    )
    same = _same_clock_windows_zone(text)
    return message + (f"; {same!r} keeps the same clock as {text}" if same else "")


def _same_clock_windows_zone(iana: str) -> str | None:
    """The first Windows zone whose IANA zone has the same UTC offset as `iana` at noon UTC on every day of 2026."""
    from zoneinfo import ZoneInfo

    try:
        wanted = ZoneInfo(iana)
    except Exception:  # not a zone at all: nothing to suggest
        return None
    days = [datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=d) for d in range(365)]
    offsets = [day.astimezone(wanted).utcoffset() for day in days]
    for windows, candidate in WINDOWS_ZONES.items():
        try:
            tz = ZoneInfo(candidate)
        except Exception:
            continue
        if all(day.astimezone(tz).utcoffset() == offset for day, offset in zip(days, offsets, strict=True)):
            return windows
    return None


def zone_label(name: str | None) -> str:
    """`W. Europe Standard Time (Europe/Berlin)` for a Windows name, the name itself otherwise."""
    text = str(name or "UTC")
    iana = WINDOWS_ZONES.get(text)
    return f"{text} ({iana})" if iana and iana != text and text != "UTC" else text


def _instant(day: date, clock: tuple[int, int, int], tz: tzinfo) -> datetime:
    """The UTC instant of a wall time in `tz`: a time in a DST gap lands as far after the change as it was meant
    after its start (fold 0: the offset before the change), a repeated time is its first occurrence."""
    local = datetime.combine(day, time(*clock), tzinfo=tz)
    return local.astimezone(UTC)


def parse_time(value: Any, tz: tzinfo, field: str) -> datetime | None:
    """start_time / end_time as an aware UTC instant; without a UTC offset, a wall time in the schedule's zone."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise TriggerError(field, f"{value!r}: expected an ISO 8601 date-time like 2026-01-05T06:00:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


# --- cron ----------------------------------------------------------------------------------------------------------

MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTH_NAMES |= {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
# cron counts days of the week from Sunday = 0.
DAY_NAMES = {name: (number + 1) % 7 for number, name in enumerate(n.lower() for n in calendar.day_abbr)}
DAY_NAMES |= {name: (number + 1) % 7 for number, name in enumerate(n.lower() for n in calendar.day_name)}
CRON_FIELDS = (
    # name, low, high, names
    ("MINUTES", 0, 59, {}),
    ("HOURS", 0, 23, {}),
    ("DAYS", 1, 31, {}),
    ("MONTHS", 1, 12, MONTH_NAMES),
    ("DAYS-OF-WEEK", 0, 7, DAY_NAMES),
)
# The most days a month can have (February: in leap years).
MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
# The longest wait between two fires of a cron that passed parse_cron: February 29, absent in 2100 (8 years).
MAX_IDLE_DAYS = 366 * 8 + 7
ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


@dataclass(frozen=True)
class Cron:
    """A parsed 5-field cron expression: the allowed values of each field (day of week 0 = Sunday)."""

    expression: str
    fields: tuple[str, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @property
    def days_restricted(self) -> bool:
        """cron's rule: a field written without a leading `*` restricts; `*/2` does not (it is ANDed)."""
        return not self.fields[2].startswith("*")

    @property
    def weekdays_restricted(self) -> bool:
        return not self.fields[4].startswith("*")

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:  # both restricted: either matches (cron's OR rule)
            return in_days or in_weekdays
        return in_days and in_weekdays

    def times_of_day(self) -> list[tuple[int, int, int]]:
        return [(hour, minute, 0) for hour in self.hours for minute in self.minutes]


def parse_cron(expression: str) -> Cron:
    """Standard 5-field cron. Raises TriggerError('expression', ...) naming the field and what was expected."""
    text = str(expression or "").strip()
    parts = text.split()
    if len(parts) != 5:
        raise TriggerError(
            "expression",
            f"{text!r} has {len(parts)} field(s); expected 5: MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK, e.g. '0 6 * * 1'",
        )
    values = [_parse_cron_field(part, *spec) for part, spec in zip(parts, CRON_FIELDS, strict=True)]
    weekdays = frozenset(v % 7 for v in values[4])  # 7 is Sunday too
    cron = Cron(
        text,
        tuple(parts),
        tuple(sorted(values[0])),
        tuple(sorted(values[1])),
        frozenset(values[2]),
        frozenset(values[3]),
        weekdays,
    )
    _check_cron_can_fire(cron)
    return cron


def _parse_cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    found: set[int] = set()
    for item in text.lower().split(","):
        match = ITEM.match(item)
        if not match:
            raise TriggerError(
                "expression", f"{name} {text!r}: {item!r} is not *, a value, a range a-b or a step */n or a-b/n"
            )
        step = int(match["step"]) if match["step"] else 1
        if step < 1:
            raise TriggerError("expression", f"{name} {text!r}: a step must be at least 1")
        if match["range"] == "*":
            first, last = low, high if name != "DAYS-OF-WEEK" else 6
        else:
            first_text, _, last_text = match["range"].partition("-")
            first = _cron_value(first_text, name, low, high, names, text)
            if not last_text:
                if match["step"]:
                    raise TriggerError(
                        "expression", f"{name} {text!r}: write {item!r} as a range with a step ({first}-{high}/{step})"
                    )
                last = first
            else:
                last = _cron_value(last_text, name, low, high, names, text)
            if last < first:
                raise TriggerError("expression", f"{name} {text!r}: the range {match['range']} runs backwards")
        found.update(range(first, last + 1, step))
    return found


def _cron_value(text: str, name: str, low: int, high: int, names: dict[str, int], field_text: str) -> int:
    if text.isdigit():
        value = int(text)
    elif text in names:
        value = names[text]
    else:
        kind = "a number" + (" or a name" if names else "")
        raise TriggerError("expression", f"{name} {field_text!r}: {text!r} is not {kind} ({low}-{high})")
    if not low <= value <= high:
        raise TriggerError("expression", f"{name} {field_text!r}: {value} is out of range {low}-{high}")
    return value


def _check_cron_can_fire(cron: Cron) -> None:
    """Refuse a day of month that never occurs in the allowed months (`0 0 30 2 *`), unless the day of week can fire."""
    if cron.days_restricted and cron.weekdays_restricted:
        return  # OR rule: some day of the week always comes
    if any(day <= MONTH_DAYS[month] for month in cron.months for day in cron.days):
        return
    months = ",".join(calendar.month_abbr[m] for m in sorted(cron.months))
    days = ",".join(str(d) for d in sorted(cron.days))
    raise TriggerError("expression", f"{cron.expression!r} never fires: day {days} never occurs in {months}")


def azure_cron_problems(cron: Cron) -> list[str]:
    """What Azure ML's cron (NCrontab, as its schedules use it) does not do as written: it ignores DAYS and MONTHS
    (treats them as *) and takes day of week 0-6."""
    problems = []
    for index, name in ((2, "DAYS"), (3, "MONTHS")):
        if cron.fields[index] != "*":
            problems.append(
                f"{name} is {cron.fields[index]!r}, but Azure ML ignores DAYS and MONTHS in a cron trigger (treats "
                "them as *), so it would fire on other days; write *, or use a recurrence trigger (frequency: month "
                "with schedule.month_days)"
            )
    bounds = [bound for item in cron.fields[4].split(",") for bound in item.partition("/")[0].split("-")]
    if "7" in bounds:  # a value or range bound; a step of 7 (`*/7`) is fine
        problems.append(
            f"DAYS-OF-WEEK {cron.fields[4]!r}: Azure ML takes 0-6 (0 = Sunday) or names; write 0 or sun for Sunday"
        )
    return problems


def _cron_times(cron: Cron, tz: tzinfo, begin: datetime, until: datetime | None) -> Iterator[datetime]:
    """Fire instants at or after `begin` (up to `until`), in order. Bounded: a cron that passed `parse_cron` fires
    at least every 8 years (a February 29), so a longer wait is an error, never an endless loop."""
    day = begin.astimezone(tz).date() - timedelta(days=1)  # a gap-shifted time of the day before is still before
    last_day = until.astimezone(tz).date() + timedelta(days=1) if until else date.max - timedelta(days=2)
    clock = cron.times_of_day()
    last: datetime | None = None
    idle = 0
    while day <= last_day:
        if cron.matches_day(day):
            for moment in sorted({_instant(day, c, tz) for c in clock}):
                if moment >= begin and (last is None or moment > last):
                    last, idle = moment, 0
                    yield moment
        idle += 1
        if idle > MAX_IDLE_DAYS:
            raise TriggerError(
                "expression", f"{cron.expression!r} does not fire in the {MAX_IDLE_DAYS} days up to {day}"
            )
        day += timedelta(days=1)


# --- recurrence ----------------------------------------------------------------------------------------------------

FREQUENCIES = ("minute", "hour", "day", "week", "month")
MAX_IDLE_RECURRENCE_DAYS = 146_097  # 400 years: the Gregorian calendar repeats
WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order


@dataclass(frozen=True)
class Recurrence:
    """A recurrence trigger's rule. `week_days` are date.weekday() numbers (0 = Monday); empty tuples: not given."""

    frequency: str
    interval: int
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    week_days: tuple[int, ...] = ()
    month_days: tuple[int, ...] = ()

    @property
    def has_pattern(self) -> bool:
        return bool(self.hours or self.minutes or self.week_days or self.month_days)


def recurrence(
    frequency: Any,
    interval: Any,
    hours: Any = None,
    minutes: Any = None,
    week_days: Any = None,
    month_days: Any = None,
) -> Recurrence:
    """A checked Recurrence from the trigger's fields (ints or lists, as the YAML allows)."""
    kind = str(frequency or "").lower()
    if kind not in FREQUENCIES:
        raise TriggerError("frequency", f"{frequency!r}: expected one of {', '.join(FREQUENCIES)}")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise TriggerError("interval", f"{interval!r}: expected a whole number of {kind}s, at least 1")
    rule = Recurrence(
        kind,
        interval,
        _ints(hours, "schedule.hours", 0, 23),
        _ints(minutes, "schedule.minutes", 0, 59),
        _week_days(week_days),
        _ints(month_days, "schedule.month_days", 1, 31),
    )
    _check_pattern(rule)
    return rule


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _ints(value: Any, field: str, low: int, high: int) -> tuple[int, ...]:
    items = _as_list(value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise TriggerError(field, f"{item!r}: expected whole numbers {low}-{high}")
    return tuple(sorted(set(items)))


def _week_days(value: Any) -> tuple[int, ...]:
    days = []
    for item in _as_list(value):
        name = str(item).lower()
        if name not in WEEK_DAYS:
            raise TriggerError("schedule.week_days", f"{item!r}: expected day names {', '.join(WEEK_DAYS)}")
        days.append(WEEK_DAYS.index(name))
    return tuple(sorted(set(days)))


def _check_pattern(rule: Recurrence) -> None:
    """Which pattern fields go with which frequency, as Azure ML documents them (day: hours and minutes; week:
    and week_days; month: and week_days or month_days; minute and hour: no pattern)."""
    if not rule.has_pattern:
        return
    if rule.frequency in ("minute", "hour"):
        raise TriggerError(
            "schedule",
            f"a pattern goes with frequency day, week or month; a {rule.frequency} recurrence fires every "
            f"{rule.interval} {rule.frequency}(s) from start_time",
        )
    for name, values in (("schedule.hours", rule.hours), ("schedule.minutes", rule.minutes)):
        if not values:
            raise TriggerError(name, "missing or empty; a pattern needs the hours and the minutes it fires at")
    if rule.week_days and rule.frequency == "day":
        raise TriggerError("schedule.week_days", "goes with frequency week or month (a day recurrence fires daily)")
    if rule.month_days and rule.frequency != "month":
        raise TriggerError("schedule.month_days", f"goes with frequency month, not {rule.frequency}")
    if rule.month_days and rule.week_days:
        raise TriggerError("schedule", "give week_days or month_days, not both")


def _check_recurrence_can_fire(rule: Recurrence, anchor_local: datetime) -> None:
    """A month recurrence whose month_days never occur in the months its interval visits (e.g. 30 in February only)."""
    if rule.frequency != "month" or rule.week_days:
        return
    days = rule.month_days or (anchor_local.day,)
    visited = {(anchor_local.month - 1 + k * rule.interval) % 12 + 1 for k in range(12)}
    if not any(day <= MONTH_DAYS[month] for month in visited for day in days):
        months = ",".join(calendar.month_abbr[m] for m in sorted(visited))
        field = "schedule.month_days" if rule.month_days else "start_time"
        raise TriggerError(
            field,
            f"never fires: day {','.join(map(str, days))} never occurs in the months every {rule.interval} month(s) "
            f"from start_time visits ({months})",
        )


def _recurrence_times(
    rule: Recurrence, tz: tzinfo, anchor: datetime, begin: datetime, until: datetime | None
) -> Iterator[datetime]:
    """Fire instants at or after max(anchor, begin) and up to `until`, in order. `anchor`: start_time (or the
    creation time). Bounded: no fire in 400 years (one Gregorian cycle) is an error, never an endless loop."""
    begin = max(begin, anchor)
    if rule.frequency in ("minute", "hour"):
        step = timedelta(minutes=rule.interval) if rule.frequency == "minute" else timedelta(hours=rule.interval)
        moment = anchor - ((anchor - begin) // step) * step  # the first anchor + k * step at or after begin
        while until is None or moment <= until:
            yield moment
            moment += step
        return
    anchor_local = anchor.astimezone(tz)
    _check_recurrence_can_fire(rule, anchor_local)
    if rule.has_pattern:
        clock = [(hour, minute, 0) for hour in rule.hours for minute in rule.minutes]
    else:
        clock = [(anchor_local.hour, anchor_local.minute, anchor_local.second)]
    period = _period_of(rule, anchor_local.date(), begin.astimezone(tz).date() - timedelta(days=1))
    last_day = until.astimezone(tz).date() + timedelta(days=1) if until else None
    last: datetime | None = None
    idle_since = begin.astimezone(tz).date()
    while True:
        days = _days_of(rule, anchor_local.date(), period)
        start = _period_start(rule, anchor_local.date(), period)
        if last_day and start > last_day:
            return
        if (start - idle_since).days > MAX_IDLE_RECURRENCE_DAYS:
            raise TriggerError("interval", f"no fire time in the 400 years after {idle_since}")
        for moment in sorted({_instant(day, c, tz) for day in days for c in clock}):
            if moment >= begin and (last is None or moment > last):
                last, idle_since = moment, moment.astimezone(tz).date()
                yield moment
        period += 1


def _period_of(rule: Recurrence, anchor: date, day: date) -> int:
    """The index of the period (every interval-th day, week or month from the anchor's) that `day` falls in."""
    if day <= anchor:
        return 0
    if rule.frequency == "day":
        units = (day - anchor).days
    elif rule.frequency == "week":
        units = (_monday(day) - _monday(anchor)).days // 7
    else:
        units = (day.year - anchor.year) * 12 + day.month - anchor.month
    return units // rule.interval


def _period_start(rule: Recurrence, anchor: date, period: int) -> date:
    if rule.frequency == "day":
        return anchor + timedelta(days=period * rule.interval)
    if rule.frequency == "week":
        return _monday(anchor) + timedelta(weeks=period * rule.interval)
    months = anchor.month - 1 + period * rule.interval
    return date(anchor.year + months // 12, months % 12 + 1, 1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _days_of(rule: Recurrence, anchor: date, period: int) -> list[date]:
    """The days of one period on which the recurrence fires."""
    if rule.frequency == "day":
        return [anchor + timedelta(days=period * rule.interval)]
    if rule.frequency == "week":
        week = _monday(anchor) + timedelta(weeks=period * rule.interval)
        return [week + timedelta(days=d) for d in (rule.week_days or (anchor.weekday(),))]
    months = anchor.month - 1 + period * rule.interval
    year, month = anchor.year + months // 12, months % 12 + 1
    length = calendar.monthrange(year, month)[1]
    if rule.week_days:
        return [date(year, month, d) for d in range(1, length + 1) if date(year, month, d).weekday() in rule.week_days]
    return [date(year, month, d) for d in (rule.month_days or (anchor.day,)) if d <= length]


# --- triggers ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """A cron or recurrence rule with its time zone and optional start and end (aware UTC instants)."""

    rule: Cron | Recurrence
    time_zone: str = "UTC"
    start: datetime | None = None
    end: datetime | None = None
    tz: tzinfo = field(default=UTC, compare=False)

    def describe(self) -> str:
        rule = self.rule
        what = f'cron "{rule.expression}"' if isinstance(rule, Cron) else _describe_recurrence(rule)
        parts = [what, f"time zone {zone_label(self.time_zone)}"]
        if self.start:
            parts.append(f"from {_wall(self.start, self.tz)}")
        if self.end:
            parts.append(f"until {_wall(self.end, self.tz)}")
        return ", ".join(parts)


def make_trigger(
    rule: Cron | Recurrence, time_zone: str | None = None, start: Any = None, end: Any = None, *, azure: bool = False
) -> Trigger:
    """A Trigger; start and end as the YAML gives them (without an offset: wall times in `time_zone`)."""
    tz = zone(time_zone, azure=azure)
    start_at = parse_time(start, tz, "start_time")
    end_at = parse_time(end, tz, "end_time")
    if start_at and end_at and end_at < start_at:
        raise TriggerError("end_time", f"{_wall(end_at, tz)} is before start_time {_wall(start_at, tz)}")
    return Trigger(rule, str(time_zone or "UTC"), start_at, end_at, tz)


def fire_times(trigger: Trigger, count: int, after: datetime) -> list[datetime]:
    """The next `count` fire times at or after `after` (aware), not before start_time nor after end_time, as aware
    datetimes in the trigger's zone. Without start_time the schedule starts at `after` (Azure: its creation time)."""
    if not 1 <= count <= MAX_COUNT:
        raise TriggerError("count", f"{count}: expected 1-{MAX_COUNT}")
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    begin = after.astimezone(UTC)
    anchor = trigger.start or begin
    times: Iterable[datetime]
    if isinstance(trigger.rule, Cron):
        times = _cron_times(trigger.rule, trigger.tz, max(begin, anchor), trigger.end)
    else:
        times = _recurrence_times(trigger.rule, trigger.tz, anchor, begin, trigger.end)
    found = []
    for moment in times:
        if trigger.end and moment > trigger.end:
            break
        found.append(moment.astimezone(trigger.tz))
        if len(found) == count:
            break
    return found


def _describe_recurrence(rule: Recurrence) -> str:
    unit = rule.frequency if rule.interval == 1 else f"{rule.interval} {rule.frequency}s"
    text = f"recurrence every {unit}"
    if rule.week_days:
        text += " on " + ", ".join(WEEK_DAYS[d] for d in rule.week_days)
    if rule.month_days:
        text += " on day " + ", ".join(map(str, rule.month_days))
    if rule.has_pattern:
        text += " at " + ", ".join(f"{h:02d}:{m:02d}" for h in rule.hours for m in rule.minutes)
    return text


def _wall(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z").strip()


def render_time(moment: datetime) -> str:
    """`Mon 2026-03-30 06:00 CEST (04:00 UTC)`; a UTC time once."""
    local = moment.strftime("%a %Y-%m-%d %H:%M %Z").strip()
    if moment.utcoffset() == timedelta(0) and moment.tzname() in ("UTC", "GMT", None):
        return local
    utc = moment.astimezone(UTC)
    same_day = utc.date() == moment.date()
    return f"{local} ({utc.strftime('%H:%M' if same_day else '%a %H:%M')} UTC)"


# --- schedule files ------------------------------------------------------------------------------------------------

# Azure ML resource names; schedules follow the same rule as jobs (letters, digits, '-' and '_', 1-255).
SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
# What a `create_job` mapping may carry besides `type` and `job`: overrides of the job, applied like `--set`.
JOB_REFERENCE_KEYS = ("type", "job")


@dataclass(frozen=True)
class ScheduleFile:
    """A schedule YAML as `load` read it: a job schedule (`create_job`) or a model monitor (`create_monitor`)."""

    path: Path
    name: str
    kind: str  # "job" | "monitor"
    trigger: Trigger
    job_file: Path | None = None  # create_job's local job YAML (None: a workspace job, or a monitor)
    job_reference: str | None = None  # create_job as written
    job_overrides: tuple[str, ...] = ()  # create_job's own settings as `--set` assignments
    entity: Any = field(default=None, compare=False, repr=False)


def load(path: Path) -> ScheduleFile:
    """Load a schedule YAML with azure-ai-ml's `load_schedule` (through its `$schema`) and read its trigger. Raises
    MlopsError naming the file and field."""
    from mlops.project import loaders

    path = Path(path)
    document = loaders.read_yaml(path)
    kind = (loaders.schema_name(document) or "").lower()
    if kind not in ("schedule", "monitorschedule"):
        raise MlopsError(
            f"{path}: $schema: expected a schedule (schedule.schema.json or monitorSchedule.schema.json), got "
            f"{document.get('$schema')!r}"
        )
    entity = loaders.load_entity(path)
    problems = document_problems(document)
    if problems:
        field_name, message = problems[0]
        raise MlopsError(f"{path}: {field_name}: {message}")
    trigger = trigger_of(path, entity)
    if kind == "monitorschedule":
        return ScheduleFile(path, entity.name, "monitor", trigger, entity=entity)
    reference, job_file, overrides = create_job_of(path, document)
    return ScheduleFile(path, entity.name, "job", trigger, job_file, reference, overrides, entity)


def trigger_of(path: Path, schedule: Any) -> Trigger:
    """The Trigger of a loaded schedule entity (CronTrigger or RecurrenceTrigger), checked as Azure ML reads it."""
    try:
        return _trigger(schedule.trigger)
    except TriggerError as exc:
        raise MlopsError(f"{path}: trigger.{exc.field}: {exc.message}") from exc


def trigger_problems(schedule: Any) -> list[tuple[str, str]]:
    """`mlops validate`: (field, message) for a trigger that does not compute fire times."""
    try:
        trigger = _trigger(schedule.trigger)
        fire_times(trigger, 1, trigger.start or datetime.now(UTC))
    except TriggerError as exc:
        return [(f"trigger.{exc.field}", exc.message)]
    return []


def _trigger(trigger: Any) -> Trigger:
    if trigger is None:
        raise TriggerError("type", "missing; a schedule needs a cron or recurrence trigger")
    kind = str(getattr(trigger, "type", "")).lower().rsplit(".", 1)[-1]
    if hasattr(trigger, "expression"):
        cron = parse_cron(trigger.expression)
        problems = azure_cron_problems(cron)
        if problems:
            raise TriggerError("expression", problems[0])
        rule: Cron | Recurrence = cron
    elif hasattr(trigger, "frequency"):
        pattern = getattr(trigger, "schedule", None)
        rule = recurrence(
            trigger.frequency,
            trigger.interval,
            getattr(pattern, "hours", None),
            getattr(pattern, "minutes", None),
            getattr(pattern, "week_days", None),
            getattr(pattern, "month_days", None),
        )
    else:
        raise TriggerError("type", f"{kind!r}: expected cron or recurrence")
    time_zone = getattr(trigger, "time_zone", None)
    time_zone = getattr(time_zone, "value", time_zone)  # a TimeZone enum member
    return make_trigger(rule, time_zone, trigger.start_time, trigger.end_time, azure=True)


def document_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """What azure-ai-ml lets through in a schedule YAML: an invalid name, and `is_enabled` (read-only in its schema:
    dropped on load, so the schedule would be created enabled)."""
    problems = []
    name = str(document.get("name", ""))
    if not SCHEDULE_NAME.match(name):
        problems.append(("name", f"{name!r}: use letters, digits, '-' and '_' (starting with a letter or digit)"))
    if "is_enabled" in document:
        problems.append(
            (
                "is_enabled",
                "read-only in azure-ai-ml's schedule schema: load_schedule drops it and the schedule is created "
                "enabled; remove it and use `mlops schedule create FILE --target azure --disabled` or "
                "`mlops schedule disable NAME --target azure`",
            )
        )
    return problems


def create_job_of(path: Path, document: dict[str, Any]) -> tuple[str, Path | None, tuple[str, ...]]:
    """create_job as written, the local job YAML it names (resolved relative to the schedule, as load_schedule does;
    None for a job in the workspace, `azureml:`), and the job settings a mapping adds, as `--set` assignments."""
    value = document.get("create_job")
    overrides: tuple[str, ...] = ()
    if isinstance(value, dict):
        reference = value.get("job")
        try:
            overrides = tuple(_assignments({k: v for k, v in value.items() if k not in JOB_REFERENCE_KEYS}))
        except MlopsError as exc:
            raise MlopsError(f"{path}: {exc}") from exc
    else:
        reference = value
    if not isinstance(reference, str) or not reference.strip():
        raise MlopsError(f"{path}: create_job: expected a job YAML path (e.g. ../pipelines/train.yml) or azureml:NAME")
    if reference.startswith("azureml:"):
        return reference, None, overrides
    return reference, (path.parent / reference).resolve(), overrides


def override_problems(job_file: Path, overrides: Iterable[str]) -> list[str]:
    """What refuses the schedule's job settings (a mapping `create_job`) when applied to its job, as a run would."""
    from mlops.project.pipeline import load_pipeline

    try:
        return list(load_pipeline(job_file, list(overrides)).problems)
    except MlopsError as exc:  # `FILE: --set inputs.x: ...` -> `inputs.x: ...`, the key as the schedule writes it
        return [str(exc).removeprefix(f"{job_file.resolve()}: ").removeprefix("--set ")]


def _assignments(settings: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """{'inputs': {'n': 5}} -> 'inputs.n=5' (the schedule's job settings, merged into the job like `--set`)."""
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _assignments(value, f"{name}.")
        elif isinstance(value, list):
            raise MlopsError(f"create_job.{name}: a list cannot be applied as a job override locally")
        elif isinstance(value, bool):
            yield f"{name}={str(value).lower()}"
        else:
            yield f"{name}={'' if value is None else value}"
