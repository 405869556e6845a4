"""Schedules: expression and time zone validation, next fire times (DST included), the firing
message the worker turns into a run, and the create/update/delete use cases against moto's
DynamoDB and EventBridge Scheduler."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from functions.workflows import jobs as _declared  # noqa: F401  (registers the jobs in JOBS)
from functions.workflows.dal.schedules import ScheduleStore
from functions.workflows.logic import schedules
from functions.workflows.models.schedules import ScheduleCreate, ScheduleUpdate
from ninefold_core import aws
from ninefold_core import schedule_expressions as expressions
from ninefold_core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from ninefold_core.jobs import JOBS, JobMessage, build_message
from ninefold_core.jobs import firing as firings
from ninefold_core.tenant import TenantContext

A = TenantContext(tenant_id="ws_aaaaaaaaaaaaaaaaaaaa", user_id="usr_alice", permissions=frozenset({"*"}))
B = TenantContext(tenant_id="ws_bbbbbbbbbbbbbbbbbbbb", user_id="usr_bob", permissions=frozenset({"*"}))
GROUP = "ninefold-test-workflows"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs-dlq"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"
ROLE_ARN = "arn:aws:iam::123456789012:role/scheduler"
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC).timestamp()  # a Wednesday, Paris on CET (UTC+1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def fires(expression: str, after: dt.datetime, timezone: str = "UTC", count: int = 3, **kw: Any) -> list[str]:
    found = expressions.next_fires(expressions.parse(expression), after, timezone, count=count, **kw)
    return [t.isoformat() for t in found]


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("0 9 * * ? *", "cron(0 9 * * ? *)"),
        ("cron(0 9 * * ? *)", "cron(0 9 * * ? *)"),
        ("  cron( 0  9 * * ? * ) ", "cron(0 9 * * ? *)"),
        ("0/15 8-17 ? * MON-FRI *", "cron(0/15 8-17 ? * MON-FRI *)"),
        ("0 0 L * ? *", "cron(0 0 L * ? *)"),
        ("0 10 ? * 6#3 *", "cron(0 10 ? * 6#3 *)"),
        ("0 12 15W JAN,JUL ? 2026-2030", "cron(0 12 15W JAN,JUL ? 2026-2030)"),
    ],
)
def test_valid_crons_are_canonicalised(given: str, canonical: str) -> None:
    assert schedules.expression_of(given, None) == canonical


@pytest.mark.parametrize(
    "cron",
    [
        "0 9 * * *",  # Unix cron: five fields
        "0 9 * * * *",  # neither day field is '?'
        "0 9 ? * ? *",  # both are
        "60 9 * * ? *",
        "0 24 * * ? *",
        "0 9 32 * ? *",
        "0 9 ? * 8 *",
        "0 9 * 13 ? *",
        "0 9 * * ? 1969",
        "0/0 9 * * ? *",
        "x 9 * * ? *",
        "rate(5 minutes)",
    ],
)
def test_invalid_crons_are_refused_with_a_422(cron: str) -> None:
    with pytest.raises(InvalidInput):
        schedules.expression_of(cron, None)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("1 minute", "rate(1 minute)"),
        ("rate(5 minutes)", "rate(5 minutes)"),
        ("rate(1 hour)", "rate(1 hour)"),
        ("2 days", "rate(2 days)"),
    ],
)
def test_valid_rates_are_canonicalised(given: str, canonical: str) -> None:
    assert schedules.expression_of(None, given) == canonical


@pytest.mark.parametrize(
    "rate", ["30 seconds", "0 minutes", "1 minutes", "5 minute", "rate(-1 hours)", "5 weeks", "rate(1.5 hours)", ""]
)
def test_invalid_rates_and_rates_under_a_minute_are_refused(rate: str) -> None:
    with pytest.raises(InvalidInput):
        schedules.expression_of(None, rate)


@pytest.mark.parametrize("timezone", ["Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata"])
def test_iana_time_zones_are_accepted(timezone: str) -> None:
    assert schedules.checked_timezone(timezone) == timezone


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "CEST", "../../etc/passwd", "/etc/localtime", "Europe/"])
def test_unknown_time_zones_are_refused(timezone: str) -> None:
    with pytest.raises(InvalidInput):
        schedules.checked_timezone(timezone)


def test_a_request_names_exactly_one_of_cron_and_rate() -> None:
    with pytest.raises(ValueError, match="exactly one of cron and rate"):
        ScheduleCreate(job="workflows.echo", cron="0 9 * * ? *", rate="1 hour")
    with pytest.raises(ValueError, match="exactly one of cron and rate"):
        ScheduleCreate(job="workflows.echo")
    with pytest.raises(ValueError, match="at most one of cron and rate"):
        ScheduleUpdate(cron="0 9 * * ? *", rate="1 hour")


# --- next fire times -------------------------------------------------------------------------


def test_a_daily_cron_fires_at_nine_paris_time_which_is_eight_utc_in_winter() -> None:
    assert fires("cron(0 9 * * ? *)", utc(2026, 12, 2, 10, 0), "Europe/Paris") == [
        "2026-12-03T09:00:00+01:00",
        "2026-12-04T09:00:00+01:00",
        "2026-12-05T09:00:00+01:00",
    ]
    first = expressions.next_fire(expressions.parse("cron(0 9 * * ? *)"), utc(2026, 12, 2, 10, 0), "Europe/Paris")
    assert first == utc(2026, 12, 3, 8, 0)


def test_nine_paris_time_is_seven_utc_in_summer() -> None:
    first = expressions.next_fire(expressions.parse("cron(0 9 * * ? *)"), utc(2026, 7, 1, 0, 0), "Europe/Paris")
    assert first == utc(2026, 7, 1, 7, 0)


def test_a_daily_cron_keeps_its_local_time_across_the_spring_and_autumn_changes() -> None:
    # Paris: CET -> CEST on 2026-03-29, CEST -> CET on 2026-10-25.
    assert fires("cron(0 9 * * ? *)", utc(2026, 3, 28, 12, 0), "Europe/Paris", count=2) == [
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
    ]
    assert fires("cron(0 9 * * ? *)", utc(2026, 10, 24, 12, 0), "Europe/Paris", count=2) == [
        "2026-10-25T09:00:00+01:00",
        "2026-10-26T09:00:00+01:00",
    ]


def test_a_wall_time_skipped_in_spring_fires_shifted_and_a_repeated_one_fires_once() -> None:
    # 02:30 does not exist in Paris on 2026-03-29: it runs at the shifted instant (03:30 CEST).
    skipped = fires("cron(30 2 * * ? *)", utc(2026, 3, 28, 12, 0), "Europe/Paris", count=2)
    assert skipped == ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]
    # 02:30 happens twice on 2026-10-25: one run, not two.
    repeated = fires("cron(30 2 * * ? *)", utc(2026, 10, 24, 12, 0), "Europe/Paris", count=2)
    assert repeated == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_weekdays_last_day_and_nth_weekday() -> None:
    after = utc(2026, 12, 4, 12, 0)  # a Friday
    assert fires("cron(0 9 ? * MON-FRI *)", after, "UTC", count=2) == [
        "2026-12-07T09:00:00+00:00",
        "2026-12-08T09:00:00+00:00",
    ]
    assert fires("cron(0 0 L * ? *)", utc(2027, 2, 1), "UTC", count=1) == ["2027-02-28T00:00:00+00:00"]
    assert fires("cron(0 10 ? * 6#3 *)", utc(2026, 12, 1), "UTC", count=1) == ["2026-12-18T10:00:00+00:00"]


def test_a_rate_counts_from_its_anchor() -> None:
    anchor = utc(2026, 12, 2, 10, 17)
    assert fires("rate(1 hour)", utc(2026, 12, 2, 12, 0), "Europe/Paris", anchor=anchor) == [
        "2026-12-02T13:17:00+01:00",
        "2026-12-02T14:17:00+01:00",
        "2026-12-02T15:17:00+01:00",
    ]


def test_a_cron_limited_to_past_years_never_fires() -> None:
    assert fires("cron(0 9 * * ? 2020)", utc(2026, 1, 1)) == []


# --- the firing message -------------------------------------------------------------------------


def firing(scheduled_time: str = "2026-12-03T08:00:00Z", **changes: Any) -> str:
    body = {
        "job": "workflows.echo",
        "tenant_id": A.tenant_id,
        "payload": {"message": "hi"},
        "schedule_id": "sch_" + "1" * 24,
        "scheduled_time": scheduled_time,
        "enqueued_by": "schedule:sch_" + "1" * 24,
        **changes,
    }
    return json.dumps(body)


def test_a_firing_becomes_a_job_message_with_a_run_id_per_firing() -> None:
    first = firings.job_message(firing())
    again = firings.job_message(firing())
    later = firings.job_message(firing("2026-12-04T08:00:00Z"))
    assert first.run_id == again.run_id  # a redelivered firing is the same run
    assert first.run_id != later.run_id  # the next firing is another run
    assert first.run_id.startswith("run_")
    assert len(first.run_id) == 36
    assert first.enqueued_at == utc(2026, 12, 3, 8, 0).timestamp()
    assert (first.schedule_id, first.tenant_id, first.job) == ("sch_" + "1" * 24, A.tenant_id, "workflows.echo")
    other_tenant = firings.job_message(firing(tenant_id=B.tenant_id))
    assert other_tenant.run_id != first.run_id


def test_a_firing_whose_time_was_not_substituted_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        firings.job_message(firing(firings.SCHEDULED_TIME))


def test_an_ordinary_job_message_passes_through() -> None:
    message = build_message("workflows.echo", {"message": "hi"}, A)
    assert firings.job_message(message.model_dump_json()) == message
    with pytest.raises(ValueError, match="Invalid JSON"):
        firings.job_message("not json")


def test_the_scheduler_input_is_a_firing_with_the_scheduled_time_placeholder() -> None:
    row = {"job": "workflows.echo", "payload": {"message": "hi"}, "schedule_id": "sch_" + "2" * 24}
    body = json.loads(schedules.firing_input(row, A.tenant_id))
    assert body["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    assert "run_id" not in body
    assert body["tenant_id"] == A.tenant_id


def test_scheduler_names_embed_tenant_and_schedule_and_fit_64_characters() -> None:
    assert schedules.scheduler_name(A.tenant_id, "sch_" + "3" * 24) == f"{A.tenant_id}.sch_{'3' * 24}"
    odd = schedules.scheduler_name("tenant with spaces and a very long name " * 2, "sch_" + "3" * 24)
    assert len(odd) <= 64
    assert odd.endswith(".sch_" + "3" * 24)


# --- use cases against moto ---------------------------------------------------------------------


@pytest.fixture
def scheduler(table: str) -> schedules.Scheduler:
    client = aws.client("scheduler")
    client.create_schedule_group(Name=GROUP)
    return schedules.Scheduler(
        client=client, group=GROUP, role_arn=ROLE_ARN, queue_arn=QUEUE_ARN, dead_letter_arn=DLQ_ARN
    )


def create(table: str, scheduler: schedules.Scheduler, ctx: TenantContext = A, **body: Any) -> Any:
    request = ScheduleCreate.model_validate({"job": "workflows.echo", "payload": {"message": "tick"}, **body})
    return schedules.create(request, ctx, store=ScheduleStore(table, ctx), scheduler=scheduler, jobs=JOBS, now=NOW)


def remote(scheduler: schedules.Scheduler, ctx: TenantContext, schedule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = scheduler.client.get_schedule(
        Name=schedules.scheduler_name(ctx.tenant_id, schedule_id), GroupName=GROUP
    )
    return found


def outbox_types(table: str) -> list[str]:
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(i["event_type"]["S"] for i in items if i.get("kind", {}).get("S") == "outbox")


def test_creating_writes_an_active_row_and_a_scheduler_schedule_in_the_time_zone(
    table: str, scheduler: schedules.Scheduler
) -> None:
    created = create(table, scheduler, cron="0 9 * * ? *", timezone="Europe/Paris", name="morning")
    assert created.status == "active"
    assert created.enabled
    assert created.expression == "cron(0 9 * * ? *)"
    assert created.next_runs == ["2026-12-03T09:00:00+01:00", "2026-12-04T09:00:00+01:00", "2026-12-05T09:00:00+01:00"]
    found = remote(scheduler, A, created.schedule_id)
    assert found["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert found["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert found["State"] == "ENABLED"
    assert found["Target"]["Arn"] == QUEUE_ARN
    assert found["Target"]["RoleArn"] == ROLE_ARN
    assert json.loads(found["Target"]["Input"])["schedule_id"] == created.schedule_id
    # A firing the Scheduler cannot deliver is kept in the jobs DLQ, not dropped.
    assert found["Target"]["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    assert outbox_types(table) == ["schedule.created"]


def test_bad_input_writes_nothing(table: str, scheduler: schedules.Scheduler) -> None:
    for body in (
        {"cron": "0 9 * * *"},
        {"rate": "30 seconds"},
        {"rate": "1 hour", "timezone": "Nowhere/Special"},
        {"rate": "1 hour", "job": "workflows.nope"},
        {"rate": "1 hour", "payload": {"fail_times": "x"}},
        {"cron": "0 9 * * ? 2020"},
    ):
        with pytest.raises(InvalidInput):
            create(table, scheduler, **body)
    assert schedules.page(ScheduleStore(table, A), limit=100, cursor=None).items == []
    assert scheduler.client.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_a_tenant_cannot_have_more_schedules_than_the_limit(table: str, scheduler: schedules.Scheduler) -> None:
    request = ScheduleCreate(job="workflows.echo", payload={"message": "x"}, rate="1 hour")
    store = ScheduleStore(table, A)
    for _ in range(2):
        schedules.create(request, A, store=store, scheduler=scheduler, jobs=JOBS, now=NOW, limit=2)
    with pytest.raises(Conflict):
        schedules.create(request, A, store=store, scheduler=scheduler, jobs=JOBS, now=NOW, limit=2)
    assert len(scheduler.client.list_schedules(GroupName=GROUP)["Schedules"]) == 2
    # Another tenant has its own count; deleting one gives the place back.
    schedules.create(request, B, store=ScheduleStore(table, B), scheduler=scheduler, jobs=JOBS, now=NOW, limit=2)
    first = schedules.page(store, limit=10, cursor=None).items[0]
    schedules.delete(first.schedule_id, A, store=store, scheduler=scheduler)
    schedules.create(request, A, store=store, scheduler=scheduler, jobs=JOBS, now=NOW, limit=2)


def test_a_scheduler_refusal_leaves_no_row(table: str, scheduler: schedules.Scheduler) -> None:
    broken = schedules.Scheduler(client=scheduler.client, group="no-such-group", role_arn=ROLE_ARN, queue_arn=QUEUE_ARN)
    with pytest.raises(ServiceUnavailable):  # the group is missing
        create(table, broken, rate="1 hour")
    assert schedules.page(ScheduleStore(table, A), limit=100, cursor=None).items == []
    assert ScheduleStore(table, A).count() == 0


def test_disabling_updates_both_and_stops_firings(table: str, scheduler: schedules.Scheduler) -> None:
    created = create(table, scheduler, rate="1 hour")
    store = ScheduleStore(table, A)
    firing_message = firings.job_message(
        json.dumps(
            {
                **json.loads(remote(scheduler, A, created.schedule_id)["Target"]["Input"]),
                "scheduled_time": "2026-12-02T11:00:00Z",
            }
        )
    )
    assert schedules.firing_allowed(firing_message, store)
    disabled = schedules.update(
        created.schedule_id, ScheduleUpdate(enabled=False), A, store=store, scheduler=scheduler, jobs=JOBS, now=NOW
    )
    assert (disabled.enabled, disabled.next_runs) == (False, [])
    assert remote(scheduler, A, created.schedule_id)["State"] == "DISABLED"
    assert not schedules.firing_allowed(firing_message, store)
    moved = schedules.update(
        created.schedule_id,
        ScheduleUpdate(enabled=True, cron="0 9 * * ? *", timezone="America/New_York"),
        A,
        store=store,
        scheduler=scheduler,
        jobs=JOBS,
        now=NOW,
    )
    assert moved.next_runs[0] == "2026-12-02T09:00:00-05:00"  # 14:00 UTC, after NOW (10:00 UTC)
    found = remote(scheduler, A, created.schedule_id)
    assert (found["State"], found["ScheduleExpressionTimezone"]) == ("ENABLED", "America/New_York")
    assert outbox_types(table) == ["schedule.created", "schedule.updated", "schedule.updated"]


def test_deleting_removes_both_and_another_tenant_gets_404s(table: str, scheduler: schedules.Scheduler) -> None:
    created = create(table, scheduler, rate="5 minutes")
    theirs = ScheduleStore(table, B)
    with pytest.raises(NotFound):
        schedules.get(created.schedule_id, theirs)
    with pytest.raises(NotFound):
        schedules.update(
            created.schedule_id, ScheduleUpdate(enabled=False), B, store=theirs, scheduler=scheduler, jobs=JOBS
        )
    with pytest.raises(NotFound):
        schedules.delete(created.schedule_id, B, store=theirs, scheduler=scheduler)
    assert remote(scheduler, A, created.schedule_id)["State"] == "ENABLED"

    store = ScheduleStore(table, A)
    schedules.delete(created.schedule_id, A, store=store, scheduler=scheduler)
    with pytest.raises(NotFound):
        schedules.get(created.schedule_id, store)
    assert scheduler.client.list_schedules(GroupName=GROUP)["Schedules"] == []
    assert store.count() == 0
    assert outbox_types(table) == ["schedule.created", "schedule.deleted"]
    late = JobMessage.model_validate({**build_message("workflows.echo", {}, A).model_dump(), "schedule_id": "x"})
    assert not schedules.firing_allowed(late, store)


def test_a_half_deleted_schedule_is_finished_by_deleting_again(table: str, scheduler: schedules.Scheduler) -> None:
    created = create(table, scheduler, rate="1 hour")
    store = ScheduleStore(table, A)
    # The Scheduler schedule went away but the row is still marked deleting (a crash in between).
    row = store.get(created.schedule_id)
    assert row is not None
    store.update(created.schedule_id, {"status": "deleting", "version": row["version"] + 1}, expected={})
    scheduler.delete(schedules.scheduler_name(A.tenant_id, created.schedule_id))
    assert schedules.get(created.schedule_id, store).status == "deleting"
    with pytest.raises(Conflict):
        schedules.update(
            created.schedule_id, ScheduleUpdate(enabled=False), A, store=store, scheduler=scheduler, jobs=JOBS
        )
    schedules.delete(created.schedule_id, A, store=store, scheduler=scheduler)
    assert store.get(created.schedule_id) is None
