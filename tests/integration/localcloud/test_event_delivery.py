"""Rules from the templates deliver to Lambda, SQS (FIFO) and Step Functions with their input settings."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from localcloud import LocalCloud, NotIdleError
from tests.fixtures.localcloud.handlers import recorder

from .conftest import AUTH, Http

pytestmark = pytest.mark.integration


def put_order(cloud: LocalCloud, detail: dict[str, Any], bus: str = "fixture-bus") -> None:
    response = cloud.client("events").put_events(
        Entries=[
            {"EventBusName": bus, "Source": "fixture.orders", "DetailType": "OrderPlaced", "Detail": json.dumps(detail)}
        ]
    )
    assert response["FailedEntryCount"] == 0


def drain(cloud: LocalCloud, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    sqs = cloud.client("sqs")
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )


def stop_executions(cloud: LocalCloud) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    arn = cloud.resource("Fixture-App/OrderFlow").arn
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    for execution in executions:
        if execution["status"] == "RUNNING":
            sfn.stop_execution(executionArn=execution["executionArn"])
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]


def test_a_matching_event_reaches_every_target_with_its_input(cloud: LocalCloud, http: Http) -> None:
    audit = cloud.resource("Fixture-Core/AuditQueue")
    drain(cloud, audit.url)  # type: ignore[arg-type]
    before = {
        e["name"]
        for e in cloud.client("stepfunctions").list_executions(
            stateMachineArn=cloud.resource("Fixture-App/OrderFlow").arn
        )["executions"]
    }

    created = http.post("/api/v1/items", body={"id": "o-1", "name": "thing", "amount": 150}, headers=AUTH)
    assert created.status == 201
    time.sleep(0.3)

    # Lambda target: InputTransformer, strings quoted outside strings, bare inside.
    assert recorder.get("rule-lambda") == [{"order": "o-1", "amount": 150, "text": "order o-1 from fixture.orders"}]
    # FIFO SQS target: InputPath $.detail, MessageGroupId from SqsParameters.
    messages = drain(cloud, audit.url)  # type: ignore[arg-type]
    assert [json.loads(m["Body"]) for m in messages] == [{"id": "o-1", "amount": 150, "tenant": "t1"}]
    assert messages[0]["Attributes"]["MessageGroupId"] == "orders"
    # Step Functions target: started with a unique name and the detail as input.
    runs = [e for e in stop_executions(cloud) if e["name"] not in before]
    assert len(runs) == 1
    assert json.loads(runs[0]["input"]) == {"id": "o-1", "amount": 150, "tenant": "t1"}


def test_events_that_do_not_match_the_pattern_go_nowhere(cloud: LocalCloud) -> None:
    put_order(cloud, {"id": "o-2", "amount": 0, "tenant": "t1"})  # numeric > 0 fails
    put_order(cloud, {"id": "o-3", "amount": 5, "tenant": "x1"})  # prefix "t" fails
    put_order(cloud, {"id": "o-4", "amount": 5, "tenant": "t1"}, bus="default")  # other bus
    time.sleep(0.3)
    assert recorder.get("rule-lambda") == []
    assert drain(cloud, cloud.resource("Fixture-Core/AuditQueue").url) == []  # type: ignore[arg-type]


def test_scheduled_rules_ignore_events(cloud: LocalCloud) -> None:
    cloud.client("events").put_events(
        Entries=[{"Source": "aws.events", "DetailType": "Scheduled Event", "Detail": "{}"}]
    )
    time.sleep(0.2)
    assert recorder.get("scheduled") == []


def test_a_failing_lambda_target_is_retried_asynchronously(cloud: LocalCloud) -> None:
    cloud.faults.inject("Fixture-App/OrderTargetFn", exc=RuntimeError("flaky"), times=1)
    put_order(cloud, {"id": "o-5", "amount": 5, "tenant": "t1"})
    time.sleep(0.3)
    assert recorder.get("rule-lambda") == []
    stop_executions(cloud)  # the same event started the state machine: not this test's subject
    drain(cloud, cloud.resource("Fixture-Core/AuditQueue").url)  # type: ignore[arg-type]
    with pytest.raises(NotIdleError, match="async retry 1"):
        cloud.wait_idle(timeout=0.5)
    cloud.clock.advance(60)  # Lambda's first async retry comes a minute later
    cloud.wait_idle(timeout=10)
    assert [e["order"] for e in recorder.get("rule-lambda")] == ["o-5"]
