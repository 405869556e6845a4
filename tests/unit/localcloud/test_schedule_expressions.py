"""AWS cron/rate/at expressions and their next firing times."""

from __future__ import annotations

import datetime as dt

import pytest

from ninefold_core.schedule_expressions import At, Cron, Rate, ScheduleExpressionError, next_fire, parse

pytestmark = pytest.mark.unit

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_rate_units_and_grammar() -> None:
    assert parse("rate(1 minute)") == Rate(60)
    assert parse("rate(5 minutes)") == Rate(300)
    assert parse("rate(2 hours)") == Rate(7200)
    assert parse("rate(1 day)") == Rate(86400)
    for bad in ("rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)"):
        with pytest.raises(ScheduleExpressionError):
            parse(bad)


def test_rate_fires_every_period_from_its_anchor() -> None:
    anchor = at("2026-01-01T00:00:00")
    assert next_fire(Rate(3600), anchor, anchor=anchor) == at("2026-01-01T01:00:00")
    assert next_fire(Rate(3600), at("2026-01-01T01:30:00"), anchor=anchor) == at("2026-01-01T02:00:00")


def test_at_fires_once_in_its_time_zone() -> None:
    expression = parse("at(2026-03-01T10:00:00)")
    assert isinstance(expression, At)
    assert next_fire(expression, at("2026-02-01T00:00:00"), "Europe/Berlin") == at("2026-03-01T09:00:00")
    assert next_fire(expression, at("2026-03-02T00:00:00"), "Europe/Berlin") is None


def test_cron_needs_six_fields_and_one_question_mark() -> None:
    assert isinstance(parse("cron(0 9 * * ? *)"), Cron)
    for bad in ("cron(0 9 * * *)", "cron(0 9 * * * *)", "cron(0 9 ? * ? *)", "cron(61 9 * * ? *)"):
        with pytest.raises(ScheduleExpressionError):
            parse(bad)


def test_cron_daily_in_a_time_zone_follows_daylight_saving() -> None:
    daily = parse("cron(0 9 * * ? *)")
    winter = next_fire(daily, at("2026-01-10T12:00:00"), "Europe/Berlin")
    summer = next_fire(daily, at("2026-07-10T12:00:00"), "Europe/Berlin")
    assert winter == at("2026-01-11T08:00:00")
    assert summer == at("2026-07-11T07:00:00")


def test_cron_day_of_week_is_one_based_from_sunday_with_names_and_ranges() -> None:
    weekdays = parse("cron(30 6 ? * MON-FRI *)")
    saturday = at("2026-01-03T07:00:00")  # a Saturday
    assert next_fire(weekdays, saturday) == at("2026-01-05T06:30:00")  # Monday
    sundays = parse("cron(0 0 ? * 1 *)")
    assert next_fire(sundays, saturday) == at("2026-01-04T00:00:00")


def test_cron_last_day_weekday_and_nth_weekday() -> None:
    assert next_fire(parse("cron(0 0 L * ? *)"), at("2026-02-10T00:00:00")) == at("2026-02-28T00:00:00")
    # 15W: the weekday nearest the 15th; 2026-08-15 is a Saturday -> Friday the 14th.
    assert next_fire(parse("cron(0 0 15W * ? *)"), at("2026-08-01T00:00:00")) == at("2026-08-14T00:00:00")
    # 2#3: the third Monday.
    assert next_fire(parse("cron(0 12 ? * 2#3 *)"), at("2026-01-01T00:00:00")) == at("2026-01-19T12:00:00")
    # 6L: the last Friday.
    assert next_fire(parse("cron(0 12 ? * 6L *)"), at("2026-01-01T00:00:00")) == at("2026-01-30T12:00:00")


def test_cron_steps_lists_months_and_years() -> None:
    every_quarter_hour = parse("cron(0/15 * * * ? *)")
    assert next_fire(every_quarter_hour, at("2026-01-01T00:07:00")) == at("2026-01-01T00:15:00")
    listed = parse("cron(0 8,20 1 JAN,JUL ? 2027)")
    assert next_fire(listed, at("2026-05-01T00:00:00")) == at("2027-01-01T08:00:00")
    assert next_fire(parse("cron(0 0 1 1 ? 2020)"), at("2026-01-01T00:00:00")) is None


def test_next_fire_is_strictly_after() -> None:
    hourly = parse("cron(0 * * * ? *)")
    assert next_fire(hourly, at("2026-01-01T10:00:00")) == at("2026-01-01T11:00:00")
