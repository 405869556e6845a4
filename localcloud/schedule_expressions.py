"""`cron(...)`, `rate(...)` and `at(...)` as EventBridge and EventBridge Scheduler read them.

AWS cron has six fields -- minutes hours day-of-month month day-of-week year --
with `?` in one of the two day fields, day-of-week 1-7 = SUN-SAT, and `L`, `W`,
`#`. croniter speaks Unix cron (0-6 = SUN-SAT, five fields), so translating
would be as long as evaluating; this module evaluates directly.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 8


class ScheduleExpressionError(ValueError):
    """Not a valid schedule expression."""


@dataclass(frozen=True)
class Rate:
    seconds: int


@dataclass(frozen=True)
class At:
    when: dt.datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: str
    months: frozenset[int]
    days_of_week: str
    years: frozenset[int]

    def matches_day(self, day: dt.date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month != "?":
            return _day_of_month_matches(self.days_of_month, day)
        return _day_of_week_matches(self.days_of_week, day)


Expression = Rate | At | Cron


def parse(expression: str) -> Expression:
    text = expression.strip()
    match = re.fullmatch(r"(cron|rate|at)\((.*)\)", text)
    if match is None:
        raise ScheduleExpressionError(f"unknown schedule expression {expression!r}")
    kind, body = match.group(1), match.group(2).strip()
    if kind == "rate":
        return _parse_rate(body)
    if kind == "at":
        try:
            return At(dt.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S"))
        except ValueError as exc:
            raise ScheduleExpressionError(f"bad at() time {body!r}") from exc
    return _parse_cron(body)


def _parse_rate(body: str) -> Rate:
    match = re.fullmatch(r"(\d+)\s+(minute|minutes|hour|hours|day|days)", body)
    if match is None:
        raise ScheduleExpressionError(f"bad rate() {body!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        raise ScheduleExpressionError(f"bad rate() {body!r} (use '1 minute' but '5 minutes')")
    scale = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return Rate(value * scale)


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"cron() needs 6 fields, got {len(fields)}: {body!r}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError("cron(): exactly one of day-of-month and day-of-week must be '?'")
    _validate_day_field(dom, 1, 31, {})
    _validate_day_field(dow, 1, 7, _WEEKDAYS)
    return Cron(
        minutes=_values(minutes, 0, 59, {}),
        hours=_values(hours, 0, 23, {}),
        days_of_month=dom.upper(),
        months=_values(month, 1, 12, _MONTHS),
        days_of_week=dow.upper(),
        years=_values(year, 1970, 2199, {}),
    )


def _number(token: str, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ScheduleExpressionError(f"bad cron value {token!r}")
    return int(token)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    result: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step <= 0:
            raise ScheduleExpressionError(f"bad cron step in {field!r}")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _number(first, names), _number(last, names)
        else:
            start = _number(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleExpressionError(f"cron value out of range {low}-{high} in {field!r}")
        span = range(start, end + 1, step) if start <= end else [*range(start, high + 1), *range(low, end + 1)][::step]
        result.update(span)
    return frozenset(result)


def _validate_day_field(field: str, low: int, high: int, names: dict[str, int]) -> None:
    upper = field.upper()
    if upper in ("?", "*", "L", "LW") or re.fullmatch(r"\d+W", upper) or re.fullmatch(r"\w+#\d", upper):
        return
    if upper.endswith("L") and len(upper) > 1:
        _number(upper[:-1], names)
        return
    _values(field, low, high, names)


def _day_of_month_matches(field: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field == "L":
        return day.day == last
    if field == "LW":
        return day == _nearest_weekday(day.replace(day=last))
    if field.endswith("W") and field[:-1].isdigit():
        target = min(int(field[:-1]), last)
        return day == _nearest_weekday(day.replace(day=target))
    return day.day in _values(field, 1, 31, {})


def _nearest_weekday(day: dt.date) -> dt.date:
    """Quartz `W`: the weekday nearest to `day` without leaving its month."""
    if day.weekday() == 5:  # Saturday
        candidate = day - dt.timedelta(days=1)
        return candidate if candidate.month == day.month else day + dt.timedelta(days=2)
    if day.weekday() == 6:  # Sunday
        candidate = day + dt.timedelta(days=1)
        return candidate if candidate.month == day.month else day - dt.timedelta(days=2)
    return day


def _aws_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday=0 in Python -> 2 in AWS; Sunday -> 1


def _day_of_week_matches(field: str, day: dt.date) -> bool:
    weekday = _aws_weekday(day)
    if "#" in field:
        name, nth = field.split("#", 1)
        return weekday == _number(name, _WEEKDAYS) and (day.day - 1) // 7 + 1 == int(nth)
    if field == "L":
        return weekday == 7
    if field.endswith("L"):
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == _number(field[:-1], _WEEKDAYS) and day.day + 7 > last
    return weekday in _values(field, 1, 7, _WEEKDAYS)


def next_fire(
    expression: Expression,
    after: dt.datetime,
    timezone: str | None = None,
    anchor: dt.datetime | None = None,
) -> dt.datetime | None:
    """The first firing strictly after `after` (aware, UTC), or None if there is none.

    `anchor` is when a rate() schedule started counting (its creation or StartDate).
    """
    zone = ZoneInfo(timezone or "UTC")
    if isinstance(expression, Rate):
        start = anchor or after
        elapsed = (after - start).total_seconds()
        periods = int(elapsed // expression.seconds) + 1 if elapsed >= 0 else 1
        return start + dt.timedelta(seconds=periods * expression.seconds)
    if isinstance(expression, At):
        instant = expression.when.replace(tzinfo=zone).astimezone(dt.UTC)
        return instant if instant > after else None
    return _next_cron(expression, after, zone)


def _next_cron(cron: Cron, after: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    local_after = after.astimezone(zone)
    day = local_after.date()
    hours, minutes = sorted(cron.hours), sorted(cron.minutes)
    for _ in range(_SEARCH_DAYS):
        if day.year > max(cron.years):
            return None
        if day.year not in cron.years:
            day = dt.date(day.year + 1, 1, 1)
            continue
        if cron.matches_day(day):
            for hour in hours:
                for minute in minutes:
                    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    # A wall time skipped by a DST jump maps to the shifted instant
                    # (zoneinfo's fold=0), so that day's run still happens.
                    instant = local.astimezone(dt.UTC)
                    if instant > after:
                        return instant
        day += dt.timedelta(days=1)
    return None
