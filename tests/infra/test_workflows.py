"""Ninefold-Workflows: the jobs queue sized from the job declarations, the worker, the run API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.constants import VISIBILITY_TIMEOUT_FACTOR, stack_name
from stacks.jobs import (
    FAILURE_RATE_PERCENT,
    RECEIVE_SLACK,
    RUNBOOK_JOBS,
    WORKER_BATCH_SIZE,
    WORKER_MARGIN_SECONDS,
    manifest_path,
    queue_policy,
    worker_batch_size,
    worker_timeout,
)
from tests.infra.conftest import Synthesized, actions, functions_by_handler, only, policy_of

pytestmark = pytest.mark.infra

WORKER = "functions.workflows.handlers.worker.handler"
API = "functions.workflows.handlers.api.handler"


@pytest.fixture(scope="module")
def workflows(synthesized: Synthesized) -> Template:
    return synthesized.template(stack_name("workflows"))


def job_queues(template: Template) -> tuple[dict[str, Any], str]:
    found = template.find_resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, q in found.items() if "RedrivePolicy" in q["Properties"] and k.startswith("JobQueue")]
    dlq_id = found[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return found[queue_id], dlq_id


def test_the_queue_is_sized_from_the_declared_jobs(workflows: Template) -> None:
    longest, attempts = queue_policy(json.loads(manifest_path("workflows").read_text()))
    queue, dlq_id = job_queues(workflows)
    worker = functions_by_handler(workflows)[WORKER]["Properties"]
    # A whole batch of the longest job fits in one invocation, and the visibility covers it.
    assert worker["Timeout"] == worker_batch_size(longest) * longest + WORKER_MARGIN_SECONDS
    assert queue["Properties"]["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FACTOR * worker["Timeout"]
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": attempts + RECEIVE_SLACK,
    }


def test_the_worker_reads_batches_and_reports_item_failures(workflows: Template) -> None:
    longest, _ = queue_policy(json.loads(manifest_path("workflows").read_text()))
    assert worker_batch_size(longest) > 1
    workflows.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": worker_batch_size(longest), "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


@pytest.mark.parametrize(("longest", "batch"), [(30, WORKER_BATCH_SIZE), (89, WORKER_BATCH_SIZE), (300, 2), (900, 1)])
def test_the_batch_shrinks_so_that_it_fits_one_invocation(longest: int, batch: int) -> None:
    assert worker_batch_size(longest) == batch
    assert worker_timeout(longest, batch) <= 900 or batch == 1


def test_the_worker_may_send_deferred_copies_to_the_queue(workflows: Template) -> None:
    role = functions_by_handler(workflows)[WORKER]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p for p in workflows.find_resources("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert "sqs:SendMessage" in json.dumps(policies)


def test_the_table_has_the_run_filter_indexes(workflows: Template) -> None:
    (table,) = workflows.find_resources("AWS::DynamoDB::GlobalTable").values()
    names = {index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]}
    assert names == {"gsi1", "gsi2", "gsi3", "gsi4", "gsi5"}


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
    # The stack also declares other workflows routes (schedules); these are the runs' own.
    assert keys >= {
        "POST /api/v1/runs",
        "GET /api/v1/runs",
        "GET /api/v1/runs/{run_id}",
        "POST /api/v1/runs/{run_id}/cancel",
        "POST /api/v1/runs/{run_id}/replay",
        "GET /api/v1/dead-letters",
        "GET /api/v1/dead-letters/{run_id}",
        "POST /api/v1/dead-letters/redrive",
        "GET /api/v1/admin/runs",
    }


def test_the_api_knows_the_dead_letter_queue_and_may_consume_it(workflows: Template) -> None:
    _, dlq_id = job_queues(workflows)
    env = functions_by_handler(workflows)[API]["Properties"]["Environment"]["Variables"]
    assert env["JOB_DLQ_URL"] == {"Ref": dlq_id}
    policies = json.dumps(workflows.find_resources("AWS::IAM::Policy"))
    assert "sqs:DeleteMessage" in policies


# --- schedules (docs/workflows.md#schedules) ----------------------------------------------------


def test_schedules_have_a_per_stage_group(workflows: Template) -> None:
    from stacks.systems.workflows import schedule_group_name

    group = only(workflows.find_resources("AWS::Scheduler::ScheduleGroup"))
    assert group["Properties"]["Name"] == schedule_group_name("dev")
    env = functions_by_handler(workflows)[API]["Properties"]["Environment"]["Variables"]
    (group_id,) = workflows.find_resources("AWS::Scheduler::ScheduleGroup")
    assert env["SCHEDULE_GROUP"] == {"Ref": group_id}


def test_the_scheduler_role_may_only_send_to_the_jobs_queue_and_its_dead_letters(workflows: Template) -> None:
    roles = workflows.find_resources("AWS::IAM::Role")
    (role_id,) = [
        k
        for k, r in roles.items()
        if any(
            s["Principal"].get("Service") == "scheduler.amazonaws.com"
            for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    ]
    (statement,) = [s for s in roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = [
        s
        for p in workflows.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert actions(statements) <= {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    job_queue, dlq_id = job_queues(workflows)
    (job_queue_id,) = [k for k, q in workflows.find_resources("AWS::SQS::Queue").items() if q == job_queue]
    # Firings to the jobs queue; a firing it cannot deliver to the jobs DLQ (not lost).
    resources = [r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert {r["Fn::GetAtt"][0] for r in resources} == {job_queue_id, dlq_id}
    env = functions_by_handler(workflows)[API]["Properties"]["Environment"]["Variables"]
    assert env["SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert env["JOB_QUEUE_ARN"] == {"Fn::GetAtt": [job_queue_id, "Arn"]}
    assert env["SCHEDULE_DLQ_ARN"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


def test_the_api_manages_schedules_in_its_group_only_and_may_pass_the_role(workflows: Template) -> None:
    statements = policy_of(workflows, functions_by_handler(workflows)[API])
    scheduler_statements = [s for s in statements if any(a.startswith("scheduler:") for a in actions([s]))]
    assert actions(scheduler_statements) == {
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
    }
    for statement in scheduler_statements:
        assert "schedule/ninefold-dev-workflows/*" in json.dumps(statement["Resource"])
    (pass_role,) = [s for s in statements if "iam:PassRole" in actions([s])]
    assert pass_role["Resource"]["Fn::GetAtt"][1] == "Arn"
    assert "SchedulerRole" in pass_role["Resource"]["Fn::GetAtt"][0]


def test_schedule_routes(workflows: Template) -> None:
    keys = {r["Properties"]["RouteKey"] for r in workflows.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert keys >= {
        "POST /api/v1/schedules",
        "GET /api/v1/schedules",
        "GET /api/v1/schedules/{schedule_id}",
        "PATCH /api/v1/schedules/{schedule_id}",
        "DELETE /api/v1/schedules/{schedule_id}",
    }


def test_schedule_events_go_through_the_outbox(workflows: Template) -> None:
    table = only(workflows.find_resources("AWS::DynamoDB::GlobalTable"))["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert "ninefold_core.events.relay.handler" in {
        f["Properties"].get("Handler") for f in workflows.find_resources("AWS::Lambda::Function").values()
    }


# --- multi-step workflows (Step Functions) -------------------------------------------------------

STEP = "functions.workflows.handlers.step.handler"


def _machines(template: Template) -> dict[str, dict[str, Any]]:
    return template.find_resources("AWS::StepFunctions::StateMachine")


def test_every_workflow_definition_is_a_standard_state_machine(workflows: Template) -> None:
    from stacks.systems.workflows import WORKFLOW_DEFINITIONS, WORKFLOW_GLOB, workflow_definitions

    files = sorted(WORKFLOW_DEFINITIONS.glob(WORKFLOW_GLOB))
    assert files, "statemachines/workflows/ holds at least the demo workflow"
    machines = _machines(workflows)
    assert len(machines) == len(files) == len(workflow_definitions())
    step_id = functions_by_handler(workflows)[STEP]
    deployed = sorted(json.dumps(json.loads(m["Properties"]["DefinitionString"])) for m in machines.values())
    assert deployed == sorted(json.dumps(json.loads(f.read_text())) for f in files)
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        substitution = props["DefinitionSubstitutions"]["StepFunctionArn"]
        assert substitution["Fn::GetAtt"][0] in workflows.to_json()["Resources"]
        assert workflows.to_json()["Resources"][substitution["Fn::GetAtt"][0]] == step_id


def test_a_state_machine_role_may_invoke_only_the_step_function(workflows: Template) -> None:
    resources = workflows.to_json()["Resources"]
    step_id = next(k for k, v in resources.items() if v.get("Properties", {}).get("Handler") == STEP)
    for machine in _machines(workflows).values():
        role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        statements = [
            s
            for p in workflows.find_resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        invoke = [s for s in statements if "lambda:InvokeFunction" in json.dumps(s["Action"])]
        assert [s["Resource"] for s in invoke] == [{"Fn::GetAtt": [step_id, "Arn"]}]
        assert not [a for a in actions(statements) if a.startswith(("dynamodb:", "sqs:", "states:", "s3:"))]
        assumed = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in assumed] == [{"Service": "states.amazonaws.com"}]


def test_the_api_may_start_describe_and_stop_only_these_executions(workflows: Template) -> None:
    api = functions_by_handler(workflows)[API]
    statements = policy_of(workflows, api)
    states = [s for s in statements if any(a.startswith("states:") for a in actions([s]))]
    assert actions(states) == {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
    machine_ids = set(_machines(workflows))
    for statement in states:
        assert machine_ids & set(json.dumps(statement["Resource"]).split('"')), statement
    env = api["Properties"]["Environment"]["Variables"]
    assert "WORKFLOWS" in env
    assert set(machine_ids) <= set(json.dumps(env["WORKFLOWS"]).split('"'))


def test_workflow_run_routes(workflows: Template) -> None:
    keys = {r["Properties"]["RouteKey"] for r in workflows.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert keys >= {
        "GET /api/v1/workflows",
        "POST /api/v1/workflow-runs",
        "GET /api/v1/workflow-runs",
        "GET /api/v1/workflow-runs/{execution_id}",
        "POST /api/v1/workflow-runs/{execution_id}/cancel",
    }


def test_the_run_views_consumer_reads_every_other_system_s_run_changes(workflows: Template) -> None:
    """ADR 0014: workflows keeps the read model of other systems' runs from `job_run.changed`;
    its own runs are its own rows, so its own events are not subscribed."""
    rules = [
        r["Properties"]
        for r in workflows.find_resources("AWS::Events::Rule").values()
        if "job_run.changed" in str(r["Properties"].get("EventPattern"))
    ]
    (rule,) = rules
    assert rule["EventPattern"] == {
        "detail-type": ["job_run.changed"],
        "source": [{"anything-but": ["ninefold.workflows"]}],
    }
    views = functions_by_handler(workflows)["functions.workflows.handlers.run_views.handler"]
    assert not {"sqs:SendMessage", "events:PutEvents"} & actions(policy_of(workflows, views))
    # Workflows acts on its own runs itself: it has no job-commands consumer.
    assert "ninefold_core.jobs.commands.handler" not in functions_by_handler(workflows)
