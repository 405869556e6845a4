"""Ninefold-Identity: table with gsi1, the shared authorizer, the identity API."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from stacks.routes import IDENTITY
from tests.infra.conftest import Synthesized, actions, functions_by_handler, only, policy_of

pytestmark = pytest.mark.infra

AUTHORIZER = "functions.identity.handlers.authorizer.handler"
API = "functions.identity.handlers.api.handler"
RELAY = "ninefold_core.events.relay.handler"
JOB_WORKER = "functions.identity.handlers.job_worker.handler"
JOB_COMMANDS = "ninefold_core.jobs.commands.handler"


def test_table_has_gsi1_on_gsi1pk_gsi1sk(identity: Template) -> None:
    table = only(identity.find_resources("AWS::DynamoDB::GlobalTable"))["Properties"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1"
    assert index["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]


def test_functions_and_timeouts(identity: Template) -> None:
    functions = functions_by_handler(identity)
    assert set(functions) == {AUTHORIZER, API, RELAY, JOB_WORKER, JOB_COMMANDS}
    assert functions[AUTHORIZER]["Properties"]["Timeout"] == 5
    assert functions[API]["Properties"]["Timeout"] == 10


def test_authorizer_is_a_simple_request_authorizer_without_cache(identity: Template) -> None:
    authorizer = only(identity.find_resources("AWS::ApiGatewayV2::Authorizer"))["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["EnableSimpleResponses"] is True
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    # No identity source: the credential is the bearer header *or* the session cookie, and API
    # Gateway would answer 401 itself when a declared source is missing (ADR 0011).
    assert "IdentitySource" not in authorizer
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    functions = identity.find_resources("AWS::Lambda::Function")
    (function,) = [k for k, v in functions.items() if v["Properties"]["Handler"] == AUTHORIZER]
    assert function in str(authorizer["AuthorizerUri"])


def test_api_routes_are_exactly_the_route_table_and_only_credential_minting_ones_are_public(
    identity: Template,
) -> None:
    authorizer = next(iter(identity.find_resources("AWS::ApiGatewayV2::Authorizer")))
    routes = {r["Properties"]["RouteKey"]: r for r in identity.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == set(IDENTITY.all)
    for route_key in IDENTITY.authorized:
        props = routes[route_key]["Properties"]
        assert (props["AuthorizationType"], props["AuthorizerId"]) == ("CUSTOM", {"Ref": authorizer}), route_key
    for route_key, reason in IDENTITY.public.items():
        route = routes[route_key]
        assert route["Properties"]["AuthorizationType"] == "NONE", route_key
        assert "AuthorizerId" not in route["Properties"]
        assert reason in json.dumps(route.get("Metadata", {})), f"{route_key}: the reason reaches the template"


def test_the_api_has_the_cpu_for_argon2_and_the_console_url_for_links(identity: Template) -> None:
    function = functions_by_handler(identity)[API]["Properties"]
    assert function["MemorySize"] >= 1024
    app_url = function["Environment"]["Variables"]["APP_URL"]
    assert "Fn::ImportValue" in json.dumps(app_url), "the distribution's domain, from the foundation"
    assert "APP_URL" not in functions_by_handler(identity)[AUTHORIZER]["Properties"]["Environment"]["Variables"]


def test_api_reads_and_writes_its_table_and_publishes_to_the_bus_only(identity: Template) -> None:
    statements = policy_of(identity, functions_by_handler(identity)[API])
    granted = actions(statements)
    assert {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    } <= granted
    assert "dynamodb:Scan" not in granted
    assert not any(a.endswith("*") for a in granted if a.startswith("dynamodb"))
    (publish,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "Fn::ImportValue" in publish["Resource"], "PutEvents on the foundation bus, not '*'"


def test_authorizer_reads_its_table_and_may_only_slide_session_rows(identity: Template) -> None:
    statements = policy_of(identity, functions_by_handler(identity)[AUTHORIZER])
    granted = actions(statements)
    dynamo = {a for a in granted if a.startswith("dynamodb:")}
    assert dynamo == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:UpdateItem",
    }
    assert "events:PutEvents" not in granted
    updates = {
        tuple(s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]): s
        for s in statements
        if s["Action"] == "dynamodb:UpdateItem"
    }
    # Three narrow writes: slide a session's idle window, stamp an API key's last use, count a
    # workspace's API call. Nothing else.
    assert set(updates) == {("P#session#*",), ("T#*#API_KEYS",), ("P#usage#*",)}
    read_back = {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]}
    assert updates[("P#session#*",)]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["P#session#*"]},
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "last_seen_at", "ttl"]},
        "StringEqualsIfExists": read_back,
    }
    assert updates[("T#*#API_KEYS",)]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*#API_KEYS"]},
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "last_used_at"]},
        "StringEqualsIfExists": read_back,
    }
    assert updates[("P#usage#*",)]["Condition"]["ForAllValues:StringEquals"] == {
        "dynamodb:Attributes": ["pk", "sk", "calls", "tenant_id", "hour", "ttl"]
    }
    assert "/index/" not in json.dumps([u["Resource"] for u in updates.values()])


def test_the_usage_report_runs_hourly_and_the_purge_sweep_daily_as_platform_jobs(identity: Template) -> None:
    """ADR 0014: a job declared with `schedule=` gets a Scheduler schedule whose firing goes to
    identity's jobs queue (or, undeliverable, to its DLQ), sent by a role that may do only that."""
    from stacks.jobs import load_manifest

    queues = identity.find_resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, q in queues.items() if k.startswith("JobQueue") and "RedrivePolicy" in q["Properties"]]
    dlq_id = queues[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    manifest = load_manifest("identity")["jobs"]
    schedules = {
        json.loads(s["Properties"]["Target"]["Input"])["job"]: s["Properties"]
        for s in identity.find_resources("AWS::Scheduler::Schedule").values()
    }
    assert {job: s["ScheduleExpression"] for job, s in schedules.items()} == {
        "identity.report_usage": "cron(5 * * * ? *)",
        "identity.sweep_purges": "cron(30 3 * * ? *)",
    }
    role_ids = set()
    for job, schedule in schedules.items():
        target = schedule["Target"]
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
        assert target["Input"] == manifest[job]["firing"]
        firing = json.loads(target["Input"])
        assert (firing["tenant_id"], firing["scheduled_time"]) == ("platform", "<aws.scheduler.scheduled-time>")
        role_ids.add(target["RoleArn"]["Fn::GetAtt"][0])
    (role_id,) = role_ids
    statements = [
        s
        for p in identity.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert actions(statements) <= {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def test_table_grants_name_the_table_and_its_index_not_wildcards(identity: Template) -> None:
    table = next(iter(identity.find_resources("AWS::DynamoDB::GlobalTable")))
    statements = policy_of(identity, functions_by_handler(identity)[API])
    (dynamo,) = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert dynamo["Resource"] == [
        {"Fn::GetAtt": [table, "Arn"]},
        {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/gsi1"]]},
    ]


def test_authorizer_is_exported_for_the_other_systems(synthesized: Synthesized) -> None:
    outputs = synthesized.raw("Ninefold-Identity")["Outputs"]
    authorizer = next(iter(synthesized.resources("Ninefold-Identity", "AWS::ApiGatewayV2::Authorizer")))
    assert any(o["Value"] == {"Ref": authorizer} and "Export" in o for o in outputs.values())


def test_the_outbox_relay_reads_only_outbox_inserts_and_job_run_writes_from_the_table_stream(
    identity: Template,
) -> None:
    table = only(identity.find_resources("AWS::DynamoDB::GlobalTable"))["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    (mapping,) = [
        m["Properties"]
        for m in identity.find_resources("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]  # the stream's mapping (queues have none)
    ]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert "OnFailure" in mapping["DestinationConfig"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["outbox"]}}}},
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["job_run"]}}}},
    ]


def test_the_relay_may_publish_but_not_touch_the_table_items(identity: Template) -> None:
    statements = policy_of(identity, functions_by_handler(identity)[RELAY])
    granted = actions(statements)
    assert "events:PutEvents" in granted
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"} & granted


def test_identity_runs_its_purges_on_its_own_job_runtime(identity: Template) -> None:
    """ADR 0014: identity's jobs get identity's own queue, DLQ and worker from its manifest; the
    worker consumes, writes identity's table, and may enqueue (the sweep's purges, deferrals)."""
    from stacks.jobs import RECEIVE_SLACK, load_manifest, queue_policy, worker_batch_size, worker_timeout

    longest, attempts = queue_policy(load_manifest("identity"))
    functions = functions_by_handler(identity)
    worker = functions[JOB_WORKER]["Properties"]
    assert worker["Timeout"] == worker_timeout(longest, worker_batch_size(longest))
    queues = identity.find_resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, q in queues.items() if k.startswith("JobQueue") and "RedrivePolicy" in q["Properties"]]
    assert queues[queue_id]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == attempts + RECEIVE_SLACK
    (mapping,) = [
        m["Properties"]
        for m in identity.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    lambdas = identity.find_resources("AWS::Lambda::Function")
    (worker_id,) = [k for k, r in lambdas.items() if r["Properties"]["Handler"] == JOB_WORKER]
    assert mapping["FunctionName"] == {"Ref": worker_id}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    granted = actions(policy_of(identity, functions[JOB_WORKER]))
    assert {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= granted
    assert worker["Environment"]["Variables"]["JOB_QUEUE_URL"] == {"Ref": queue_id}
    alarms = identity.find_resources("AWS::CloudWatch::Alarm")
    assert any("runbooks/jobs.md" in a["Properties"].get("AlarmDescription", "") for a in alarms.values())


def test_cancel_and_replay_requests_for_identity_s_runs_reach_its_job_commands_consumer(identity: Template) -> None:
    rules = [
        r["Properties"]
        for r in identity.find_resources("AWS::Events::Rule").values()
        if "job_run.replay_requested" in str(r["Properties"].get("EventPattern"))
    ]
    (rule,) = rules
    assert rule["EventPattern"] == {
        "source": ["ninefold.workflows"],
        "detail-type": ["job_run.cancel_requested", "job_run.replay_requested"],
        "detail": {"data": {"system": ["identity"]}},
    }
    commands = functions_by_handler(identity)[JOB_COMMANDS]
    granted = actions(policy_of(identity, commands))
    assert {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "dynamodb:UpdateItem"} <= granted
    assert "JOB_DLQ_URL" in commands["Properties"]["Environment"]["Variables"]
