"""Runs other systems own (ADR 0014): their job runtime writes the run in its own table; each write
reaches workflows as `job_run.changed` and becomes a row of workflows' read model, listed by the
run API like workflows' own runs. Cancel and replay of such a run are requests to its owner
(`job_run.cancel_requested` / `job_run.replay_requested`), carried out by the owner's job-commands
consumer; its writes come back as `job_run.changed`.

One moto account plays both systems: `owner-table` is identity's (a job runtime with a stream),
`ninefold-test-table` is workflows'. Stream records are turned into events with the relay's own
function and handed to the consumers as SQS records."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from functions.workflows.dal.runs import RunViews
from functions.workflows.handlers import api, run_views
from ninefold_core import aws
from ninefold_core.events.catalog import parse_envelope
from ninefold_core.events.relay import outbox_detail, run_change_detail
from ninefold_core.jobs import build_message, commands, execution
from ninefold_core.jobs.store import INDEXES, RunStore
from ninefold_core.tenant import TenantContext
from tests.support.events import http_event
from tests.unit.conftest import create_table

OWNER_TABLE = "owner-table"
A = TenantContext(tenant_id="tenant-aaaa", user_id="usr_a", permissions=frozenset({"jobs:*"}))
B = TenantContext(tenant_id="tenant-bbbb", user_id="usr_b", permissions=frozenset({"jobs:*"}))
SYSTEM_A = TenantContext.system(A.tenant_id, "identity")


class Streams:
    """Reads a table's stream from where it last stopped."""

    def __init__(self, table: str) -> None:
        self.client = aws.client("dynamodbstreams")
        arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def new_records(self) -> list[dict[str, Any]]:
        answer = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        records: list[dict[str, Any]] = answer["Records"]
        return records


def sqs_event(details: list[dict[str, Any]]) -> dict[str, Any]:
    """EventBridge events as an SQS batch (the rule's target queue)."""
    return {
        "Records": [
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": "h",
                "body": json.dumps(
                    {"detail-type": d["metadata"]["type"], "source": d["metadata"]["source"], "detail": d}
                ),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for d in details
        ]
    }


@pytest.fixture
def both(table: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    create_table(OWNER_TABLE, gsis=INDEXES, stream=True)
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="identity-jobs")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="identity-jobs-dlq")["QueueUrl"]
    workflows_queue = sqs.create_queue(QueueName="workflows-jobs")["QueueUrl"]
    env = {"TABLE_NAME": table, "SYSTEM": "workflows", "POWERTOOLS_SERVICE_NAME": "workflows"}
    for key, value in (env | {"JOB_QUEUE_URL": workflows_queue}).items():
        monkeypatch.setenv(key, value)
    return {
        "workflows": table,
        "owner": Streams(OWNER_TABLE),
        "outbox": Streams(table),
        "queue": queue,
        "dlq": dlq,
        "monkeypatch": monkeypatch,
    }


def as_owner(both: dict[str, Any]) -> None:
    for key, value in {
        "TABLE_NAME": OWNER_TABLE,
        "SYSTEM": "identity",
        "POWERTOOLS_SERVICE_NAME": "identity",
        "JOB_QUEUE_URL": both["queue"],
        "JOB_DLQ_URL": both["dlq"],
    }.items():
        both["monkeypatch"].setenv(key, value)


def as_workflows(both: dict[str, Any]) -> None:
    for key, value in {
        "TABLE_NAME": both["workflows"],
        "SYSTEM": "workflows",
        "POWERTOOLS_SERVICE_NAME": "workflows",
    }.items():
        both["monkeypatch"].setenv(key, value)


def project_owner_changes(both: dict[str, Any], lambda_context: Any) -> list[dict[str, Any]]:
    """The owner's relay, the bus and workflows' run-views consumer, in one step."""
    details = [d for r in both["owner"].new_records() if (d := run_change_detail(r, "identity"))]
    as_workflows(both)
    assert run_views.handler(sqs_event(details), lambda_context) == {"batchItemFailures": []}
    return details


def call(method: str, path: str, ctx: TenantContext, lambda_context: Any, **query: str) -> tuple[int, Any]:
    as_api = {"query": query} if query else {}
    response = api.handler(http_event(method, path, ctx=ctx, **as_api), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def failing_run(store: RunStore) -> str:
    """An identity run that fails every attempt (its job is unknown to this process: failed at once)."""
    message = build_message("identity.nothing_here", {}, SYSTEM_A)
    execution.execute(message, 1, store=store, jobs={}, ctx=SYSTEM_A)
    return message.run_id


def test_another_system_s_runs_are_listed_with_their_system_and_only_to_their_tenant(
    both: dict[str, Any], lambda_context: Any
) -> None:
    run_id = failing_run(RunStore(OWNER_TABLE, SYSTEM_A))
    details = project_owner_changes(both, lambda_context)
    assert [d["data"]["status"] for d in details] == ["queued", "failed"]

    status, page = call("GET", "/api/v1/runs", A, lambda_context, status="failed")
    assert status == 200
    (run,) = page["items"]
    assert (run["run_id"], run["system"], run["job"], run["dead_lettered"]) == (
        run_id,
        "identity",
        "identity.nothing_here",
        True,
    )
    assert call("GET", f"/api/v1/runs/{run_id}", A, lambda_context)[1]["last_error"].startswith("unknown job")
    assert call("GET", f"/api/v1/dead-letters/{run_id}", A, lambda_context)[0] == 200
    assert call("GET", "/api/v1/runs", B, lambda_context)[1]["items"] == []
    assert call("GET", f"/api/v1/runs/{run_id}", B, lambda_context)[0] == 404


def test_the_newest_revision_wins_whatever_order_the_snapshots_arrive_in(both: dict[str, Any]) -> None:
    views = RunViews(both["workflows"], A)
    base = {"system": "identity", "run_id": "run_" + "1" * 32, "job": "identity.x", "created_at": "2026-12-02T00:00:00"}
    assert views.apply(base | {"status": "succeeded", "revision": 3, "attempts": 1})
    assert not views.apply(base | {"status": "running", "revision": 2, "attempts": 1})  # late
    assert not views.apply(base | {"status": "succeeded", "revision": 3, "attempts": 1})  # twice
    store = RunStore(both["workflows"], A)
    assert store.get(base["run_id"])["status"] == "succeeded"
    assert [r["run_id"] for r in store.page(limit=10, cursor=None, status="running").items] == []
    assert [r["run_id"] for r in store.page(limit=10, cursor=None, status="succeeded").items] == [base["run_id"]]


def test_a_snapshot_never_overwrites_a_run_of_workflows_own(both: dict[str, Any]) -> None:
    store = RunStore(both["workflows"], A)
    message = build_message("workflows.echo", {"message": "mine"}, A)
    store.create(execution.new_run(message, 3), idempotency_ttl=60)
    forged = {"system": "identity", "run_id": message.run_id, "job": "identity.x", "status": "succeeded"}
    assert not RunViews(both["workflows"], A).apply(forged | {"revision": 99, "created_at": "t"})
    assert store.get(message.run_id)["job"] == "workflows.echo"


def test_replaying_another_system_s_run_asks_its_owner_who_replays_it_once(
    both: dict[str, Any], lambda_context: Any
) -> None:
    owner_store = RunStore(OWNER_TABLE, SYSTEM_A)
    run_id = failing_run(owner_store)
    project_owner_changes(both, lambda_context)

    # The run API cannot change another system's run itself: it asks, and answers 202.
    status, body = call("POST", f"/api/v1/runs/{run_id}/replay", A, lambda_context)
    assert (status, body["status"], body["system"]) == (202, "failed", "identity")
    assert call("POST", f"/api/v1/runs/{run_id}/cancel", A, lambda_context)[0] == 409  # not queued
    requests = [d for r in both["outbox"].new_records() if (d := outbox_detail(r))]
    assert [parse_envelope(d).metadata.type for d in requests] == ["job_run.replay_requested"]

    # The owner's job-commands consumer replays it on its own store, even when told twice.
    as_owner(both)
    assert commands.handler(sqs_event(requests * 2), lambda_context) == {"batchItemFailures": []}
    replayed = owner_store.get(run_id)
    assert replayed is not None
    assert (replayed["status"], replayed["replays"]) == ("queued", 1)
    sent = aws.client("sqs").receive_message(QueueUrl=both["queue"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["run_id"] for m in sent] == [run_id]

    # ...and the read model follows.
    project_owner_changes(both, lambda_context)
    assert call("GET", f"/api/v1/runs/{run_id}", A, lambda_context)[1]["status"] == "queued"


def test_cancelling_another_system_s_queued_run_is_carried_out_by_its_owner(
    both: dict[str, Any], lambda_context: Any
) -> None:
    owner_store = RunStore(OWNER_TABLE, SYSTEM_A)
    message = build_message("identity.later", {}, SYSTEM_A)
    owner_store.create(execution.new_run(message, 3), idempotency_ttl=60)
    project_owner_changes(both, lambda_context)

    status, body = call("POST", f"/api/v1/runs/{message.run_id}/cancel", A, lambda_context)
    assert (status, body["status"]) == (202, "queued")
    assert call("POST", f"/api/v1/runs/{message.run_id}/cancel", B, lambda_context)[0] == 404
    requests = [d for r in both["outbox"].new_records() if (d := outbox_detail(r))]
    as_owner(both)
    commands.handler(sqs_event(requests), lambda_context)
    assert owner_store.get(message.run_id)["status"] == "cancelled"

    project_owner_changes(both, lambda_context)
    assert call("GET", f"/api/v1/runs/{message.run_id}", A, lambda_context)[1]["status"] == "cancelled"
