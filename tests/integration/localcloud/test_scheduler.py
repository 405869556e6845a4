"""Schedules from the templates and from the Scheduler API fire on the warp clock."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.fixtures.localcloud.handlers import recorder

pytestmark = pytest.mark.integration


def berlin_nine_am_count(start: float, end: float) -> int:
    """How many 09:00 Europe/Berlin instants lie in (start, end]."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Berlin")
    day = dt.datetime.fromtimestamp(start, tz=zone).date()
    count = 0
    while True:
        instant = dt.datetime(day.year, day.month, day.day, 9, tzinfo=zone).timestamp()
        if instant > end:
            return count
        if instant > start:
            count += 1
        day += dt.timedelta(days=1)


def test_a_daily_cron_in_a_time_zone_fires_once_per_day_of_warp(cloud: LocalCloud) -> None:
    cloud.wait_idle()
    recorder.clear()
    start = cloud.clock.now()
    end = cloud.clock.advance(3 * 86400)
    cloud.wait_idle(timeout=30)
    daily = [e for e in recorder.get("scheduled") if e.get("report") == "daily"]
    assert len(daily) == berlin_nine_am_count(start, end) == 3
    for event in daily:
        at = dt.datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
        assert at.astimezone(dt.timezone(dt.timedelta(hours=1))).hour == 9 or at.hour in (7, 8)
    hourly = [e for e in recorder.get("scheduled") if e.get("kind") == "hourly"]
    assert 71 <= len(hourly) <= 73  # rate(1 hour) rule: 72 hours of warp


def test_a_schedule_created_at_runtime_fires_once_and_deletes_itself(cloud: LocalCloud) -> None:
    queue = cloud.resource("Fixture-Core/WorkQueue")
    when = dt.datetime.fromtimestamp(cloud.clock.now() + 7200, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler = cloud.client("scheduler")
    scheduler.create_schedule(
        Name="one-off",
        ScheduleExpression=f"at({when})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": queue.arn,
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"n": "scheduled"}),
        },
        ActionAfterCompletion="DELETE",
    )
    cloud.clock.advance(7201)
    cloud.wait_idle(timeout=30)
    assert [r["body"] for r in recorder.get("worker")] == [{"n": "scheduled"}]
    assert scheduler.list_schedules(NamePrefix="one-off")["Schedules"] == []


def test_schedule_targets_can_start_executions_and_put_events(cloud: LocalCloud) -> None:
    scheduler = cloud.client("scheduler")
    bus = cloud.resource("Fixture-Core/Bus")
    scheduler.create_schedule(
        Name="nudge",
        ScheduleExpression="rate(10 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": bus.arn,
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"id": "sched-1", "amount": 1, "tenant": "t9"}),
            "EventBridgeParameters": {"Source": "fixture.orders", "DetailType": "OrderPlaced"},
        },
    )
    cloud.clock.advance(600)
    deadline = time.monotonic() + 30
    while not recorder.get("rule-lambda") and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.delete_schedule(Name="nudge")
    assert [e["order"] for e in recorder.get("rule-lambda")] == ["sched-1"]
    # the same event also reached the audit queue and the state machine: tidy up
    sfn = cloud.client("stepfunctions")
    for execution in sfn.list_executions(
        stateMachineArn=cloud.resource("Fixture-App/OrderFlow").arn, statusFilter="RUNNING"
    )["executions"]:
        try:
            sfn.stop_execution(executionArn=execution["executionArn"])
        except ClientError:
            # It finished between the listing and the stop (moto answers 500 for that); nothing to tidy.
            if sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
                raise
    cloud.clock.advance(61)  # SQS allows one purge a minute (on the warp clock here)
    cloud.client("sqs").purge_queue(QueueUrl=cloud.resource("Fixture-Core/AuditQueue").url)


def test_a_firing_that_cannot_be_delivered_goes_to_the_schedule_s_dead_letter_queue(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    dlq_url = sqs.create_queue(QueueName="schedule-dead-letters")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    scheduler = cloud.client("scheduler")
    scheduler.create_schedule(
        Name="undeliverable",
        ScheduleExpression="rate(10 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:sqs:us-east-1:123456789012:no-such-queue",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"firing": "kept"}),
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )
    try:
        cloud.clock.advance(600)
        cloud.wait_idle(timeout=30)
    finally:
        scheduler.delete_schedule(Name="undeliverable")
    messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in messages] == [{"firing": "kept"}]
    assert any(f["source"] == "schedule:undeliverable" for f in cloud.delivery_failures)
