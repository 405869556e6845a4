"""`cron(...)`, `rate(...)` and `at(...)` as EventBridge and EventBridge Scheduler read them.

One grammar for two readers: the workflows system validates tenants' schedules with it and
computes their next fire times, and the local cloud's scheduler fires schedules with it, so what
the API accepts is exactly what fires locally.

AWS cron has six fields -- minutes hours day-of-month month day-of-week year -- with `?` in
exactly one of the two day fields, day-of-week 1-7 = SUN-SAT, and `L`, `W`, `#`. croniter speaks
Unix cron (0-6 = SUN-SAT, five fields), so translating would be as long as evaluating; this module
evaluates directly. Cron fields are read in the schedule's IANA time zone; a rate counts from its
anchor (when the schedule was created or its expression last changed); `at()` is a one-time
wall-clock time in the schedule's time zone.

Daylight saving time, as the Scheduler does it: a wall time skipped by a spring-forward jump
fires at the shifted instant (02:30 that does not exist runs at 03:30 local), a wall time that
happens twice in autumn fires once (the first one).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 8
MIN_RATE_SECONDS = 60
MAX_EXPRESSION_CHARS = 256


class ScheduleExpressionError(ValueError):
    """Not a valid (or not a supported) schedule expression or time zone."""


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


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. `Europe/Paris`, `UTC`)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleExpressionError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')") from None


def cron_expression(text: str) -> str:
    """`0 9 * * ? *` or `cron(0 9 * * ? *)` -> the canonical `cron(0 9 * * ? *)` (validated)."""
    body = text.strip()
    match = re.fullmatch(r"cron\((.*)\)", body)
    canonical = f"cron({' '.join((match.group(1) if match else body).split())})"
    parse(canonical)
    return canonical


def rate_expression(text: str) -> str:
    """`5 minutes` or `rate(5 minutes)` -> the canonical `rate(5 minutes)` (validated)."""
    body = text.strip()
    match = re.fullmatch(r"rate\((.*)\)", body)
    canonical = f"rate({' '.join((match.group(1) if match else body).split())})"
    parse(canonical)
    return canonical


def parse(expression: str) -> Expression:
    text = expression.strip()
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ScheduleExpressionError("the schedule expression is too long")
    match = re.fullmatch(r"(cron|rate|at)\((.*)\)", text)
    if match is None:
        raise ScheduleExpressionError(f"unknown schedule expression {expression!r} (use cron(...) or rate(...))")
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
    match = re.fullmatch(r"(\d{1,6})\s+(minute|minutes|hour|hours|day|days)", body)
    if match is None:
        raise ScheduleExpressionError(f"bad rate {body!r} (e.g. 'rate(5 minutes)', 'rate(1 hour)', 'rate(2 days)')")
    value, unit = int(match.group(1)), match.group(2)
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        raise ScheduleExpressionError(f"bad rate {body!r} (use '1 minute' but '5 minutes')")
    seconds = value * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    if seconds < MIN_RATE_SECONDS:
        raise ScheduleExpressionError("a rate must be at least 1 minute")
    return Rate(seconds)


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError("cron: exactly one of day-of-month and day-of-week must be '?'")
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
    if not token.isdigit() or len(token) > 4:
        raise ScheduleExpressionError(f"bad cron value {token!r}")
    return int(token)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    result: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and (not step_text.isdigit() or len(step_text) > 4):
            raise ScheduleExpressionError(f"bad cron step in {field!r}")
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
    if upper in ("?", "*", "L", "LW"):
        return
    if re.fullmatch(r"\d{1,2}W", upper):
        _values(upper[:-1], low, high, names)
        return
    if re.fullmatch(r"\w+#[1-5]", upper):
        _values(upper.split("#", 1)[0], low, high, names)
        return
    if upper.endswith("L") and len(upper) > 1:
        _values(upper[:-1], low, high, names)
        return
    _values(field, low, high, names)


def _day_of_month_matches(field: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field == "L":
        return day.day == last
    if field == "LW":
        return day == _nearest_weekday(day.replace(day=last))
    if field.endswith("W") and field[:-1].isdigit():
        return day == _nearest_weekday(day.replace(day=min(int(field[:-1]), last)))
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
    expression: Expression, after: dt.datetime, timezone: str | None = "UTC", anchor: dt.datetime | None = None
) -> dt.datetime | None:
    """The first firing strictly after `after` (aware), in UTC; None if there is none.

    `anchor` is when a rate started counting (the schedule's creation or last expression change).
    """
    if isinstance(expression, Rate):
        start = anchor or after
        elapsed = (after - start).total_seconds()
        periods = int(elapsed // expression.seconds) + 1 if elapsed >= 0 else 1
        return (start + dt.timedelta(seconds=periods * expression.seconds)).astimezone(dt.UTC)
    if isinstance(expression, At):
        instant = expression.when.replace(tzinfo=zone(timezone or "UTC")).astimezone(dt.UTC)
        return instant if instant > after else None
    return _next_cron(expression, after, zone(timezone or "UTC"))


def next_fires(
    expression: Expression,
    after: dt.datetime,
    timezone: str = "UTC",
    anchor: dt.datetime | None = None,
    count: int = 3,
) -> list[dt.datetime]:
    """The next `count` firings after `after`, as aware datetimes in the schedule's time zone."""
    local = zone(timezone)
    found: list[dt.datetime] = []
    while len(found) < count:
        upcoming = next_fire(expression, after, timezone, anchor)
        if upcoming is None:
            break
        found.append(upcoming.astimezone(local))
        after = upcoming
    return found


def _next_cron(cron: Cron, after: dt.datetime, local: ZoneInfo) -> dt.datetime | None:
    day = after.astimezone(local).date()
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
                    # fold=0: a skipped wall time maps to the shifted instant, a repeated one to
                    # its first occurrence.
                    instant = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=local).astimezone(dt.UTC)
                    if instant > after:
                        return instant
        day += dt.timedelta(days=1)
    return None
