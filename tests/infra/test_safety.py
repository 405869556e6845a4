"""Ninefold-Safety: the audit consumer behind a queue fed by the bus, and the audit API."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.constants import RUNBOOK_DEAD_LETTERS, VISIBILITY_TIMEOUT_FACTOR
from tests.infra.conftest import Synthesized, actions, functions_by_handler, only, policy_of

pytestmark = pytest.mark.infra

CONSUMER = "functions.safety.handlers.audit_consumer.handler"
API = "functions.safety.handlers.api.handler"


def queues(safety: Template) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    found = safety.find_resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, q in found.items() if "RedrivePolicy" in q["Properties"]]
    (dlq_id,) = [k for k in found if k != queue_id]
    return queue_id, found[queue_id], dlq_id, found[dlq_id]


def test_functions_and_timeouts(safety: Template) -> None:
    functions = functions_by_handler(safety)
    assert set(functions) == {CONSUMER, API}
    assert functions[CONSUMER]["Properties"]["Timeout"] == 30
    assert functions[API]["Properties"]["Timeout"] == 10


def test_audit_queue_redrives_to_its_dlq_after_three_receives(safety: Template) -> None:
    _, queue, dlq_id, dlq = queues(safety)
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": 3,
    }
    for q in (queue, dlq):
        assert q["Properties"]["SqsManagedSseEnabled"] is True


def test_visibility_timeout_is_six_times_the_consumer_timeout(safety: Template) -> None:
    _, queue, _, _ = queues(safety)
    timeout = functions_by_handler(safety)[CONSUMER]["Properties"]["Timeout"]
    assert queue["Properties"]["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FACTOR * timeout == 180


def test_queues_refuse_unencrypted_transport(safety: Template) -> None:
    policies = safety.find_resources("AWS::SQS::QueuePolicy")
    covered = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ):
            covered.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert covered == set(safety.find_resources("AWS::SQS::Queue"))


def test_consumer_reads_batches_and_reports_item_failures(safety: Template) -> None:
    queue_id, _, _, _ = queues(safety)
    mapping = only(safety.find_resources("AWS::Lambda::EventSourceMapping"))["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert mapping["MaximumBatchingWindowInSeconds"] == 1


def test_dead_letters_page_the_alarms_topic_with_the_runbook(safety: Template) -> None:
    _, _, dlq_id, _ = queues(safety)
    alarm = only(safety.find_resources("AWS::CloudWatch::Alarm"))["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert RUNBOOK_DEAD_LETTERS in alarm["AlarmDescription"]
    (action,) = alarm["AlarmActions"]
    assert "Fn::ImportValue" in action, "the foundation's alarms topic"


def test_audit_rule_sends_every_ninefold_event_but_job_run_snapshots_to_the_queue(safety: Template) -> None:
    queue_id, _, dlq_id, _ = queues(safety)
    rule = only(safety.find_resources("AWS::Events::Rule"))["Properties"]
    assert rule["EventPattern"] == {
        "source": [{"prefix": "ninefold."}],
        "detail-type": [{"anything-but": ["job_run.changed"]}],
    }
    assert "Fn::ImportValue" in rule["EventBusName"], "the foundation bus, not the default bus"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}


def test_only_the_rule_may_send_to_the_queues(safety: Template) -> None:
    rule_id = next(iter(safety.find_resources("AWS::Events::Rule")))
    for policy in safety.find_resources("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] == {"Service": "events.amazonaws.com"}
                assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_audit_api_routes_use_the_identity_authorizer(safety: Template) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in safety.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"GET /api/v1/audit-events", "GET /api/v1/audit-events/{event_id}"}
    for route in routes.values():
        assert route["AuthorizationType"] == "CUSTOM"
        assert "Ninefold-Identity" in route["AuthorizerId"]["Fn::ImportValue"]
    safety.resource_count_is("AWS::ApiGatewayV2::Authorizer", 0)


def test_api_only_reads_the_table(safety: Template) -> None:
    granted = actions(policy_of(safety, functions_by_handler(safety)[API]))
    assert {a for a in granted if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
    }
    assert not {a for a in granted if a.startswith(("sqs:", "events:"))}


def test_consumer_writes_the_table_and_consumes_only_its_queue(safety: Template) -> None:
    queue_id, _, _, _ = queues(safety)
    statements = policy_of(safety, functions_by_handler(safety)[CONSUMER])
    granted = actions(statements)
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= granted
    assert "events:PutEvents" not in granted
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in s["Action"])]
    assert [s["Resource"] for s in sqs] == [{"Fn::GetAtt": [queue_id, "Arn"]}]


def test_safety_depends_on_identity_and_foundation(synthesized: Synthesized) -> None:
    names = {d.node.id for d in synthesized.stack("Ninefold-Safety").dependencies}
    assert names == {"Ninefold-Foundation", "Ninefold-Identity"}
