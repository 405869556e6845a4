"""Ninefold-Workflows: the jobs queue sized from the job declarations, the worker, the run API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.constants import VISIBILITY_TIMEOUT_FACTOR, stack_name
from stacks.systems.workflows import (
    FAILURE_RATE_PERCENT,
    JOB_MANIFEST,
    RUNBOOK_JOBS,
    WORKER_MARGIN_SECONDS,
    queue_policy,
)
from tests.infra.conftest import Synthesized, functions_by_handler

pytestmark = pytest.mark.infra

WORKER = "functions.workflows.handlers.worker.handler"
API = "functions.workflows.handlers.api.handler"


@pytest.fixture(scope="module")
def workflows(synthesized: Synthesized) -> Template:
    return synthesized.template(stack_name("workflows"))


def job_queues(template: Template) -> tuple[dict[str, Any], str]:
    found = template.find_resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, q in found.items() if "RedrivePolicy" in q["Properties"]]
    (dlq_id,) = [k for k in found if k != queue_id]
    return found[queue_id], dlq_id


def test_the_queue_is_sized_from_the_declared_jobs(workflows: Template) -> None:
    longest, attempts = queue_policy(json.loads(JOB_MANIFEST.read_text()))
    queue, dlq_id = job_queues(workflows)
    worker = functions_by_handler(workflows)[WORKER]["Properties"]
    assert worker["Timeout"] == longest + WORKER_MARGIN_SECONDS
    assert queue["Properties"]["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FACTOR * worker["Timeout"]
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": attempts,
    }


def test_the_worker_reads_one_message_at_a_time_and_reports_item_failures(workflows: Template) -> None:
    workflows.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )


def test_both_functions_know_the_queue_url(workflows: Template) -> None:
    for handler in (WORKER, API):
        env = functions_by_handler(workflows)[handler]["Properties"]["Environment"]["Variables"]
        assert "JOB_QUEUE_URL" in env


def test_the_worker_may_change_message_visibility(workflows: Template) -> None:
    policies = json.dumps(workflows.find_resources("AWS::IAM::Policy"))
    assert "sqs:ChangeMessageVisibility" in policies


def test_the_dead_letter_alarm_points_at_the_jobs_runbook(workflows: Template) -> None:
    alarms = workflows.find_resources("AWS::CloudWatch::Alarm")
    (alarm,) = [a for k, a in alarms.items() if k.startswith("JobQueueDeadLettersAlarm")]
    assert RUNBOOK_JOBS in alarm["Properties"]["AlarmDescription"]


def test_the_failure_rate_alarm_divides_the_workers_metrics_and_pages(workflows: Template) -> None:
    alarms = workflows.find_resources("AWS::CloudWatch::Alarm")
    (alarm,) = [a["Properties"] for k, a in alarms.items() if k.startswith("JobFailureRateAlarm")]
    assert RUNBOOK_JOBS in alarm["AlarmDescription"]
    assert alarm["Threshold"] == FAILURE_RATE_PERCENT
    assert alarm["AlarmActions"]
    names = {
        q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"]["Metric"]
        for q in alarm["Metrics"]
        if "MetricStat" in q
    }
    assert set(names) == {"JobSucceeded", "JobFailed"}
    assert all(m["Namespace"] == "Ninefold" for m in names.values())
    assert all(m["Dimensions"] == [{"Name": "service", "Value": "workflows"}] for m in names.values())
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if "Expression" in q]
    assert "failed / (ok + failed)" in expression


def test_run_routes(workflows: Template) -> None:
    keys = {r["Properties"]["RouteKey"] for r in workflows.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert keys == {
        "POST /api/v1/runs",
        "GET /api/v1/runs",
        "GET /api/v1/runs/{run_id}",
        "POST /api/v1/runs/{run_id}/cancel",
        "POST /api/v1/runs/{run_id}/replay",
        "GET /api/v1/dead-letters",
        "GET /api/v1/dead-letters/{run_id}",
        "POST /api/v1/dead-letters/redrive",
    }


def test_the_api_knows_the_dead_letter_queue_and_may_consume_it(workflows: Template) -> None:
    _, dlq_id = job_queues(workflows)
    env = functions_by_handler(workflows)[API]["Properties"]["Environment"]["Variables"]
    assert env["JOB_DLQ_URL"] == {"Ref": dlq_id}
    policies = json.dumps(workflows.find_resources("AWS::IAM::Policy"))
    assert "sqs:DeleteMessage" in policies
