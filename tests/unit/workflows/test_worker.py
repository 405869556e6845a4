"""The worker handler: partial batch failures and backoff by message visibility."""

from __future__ import annotations

from typing import Any

import pytest

from functions.workflows.handlers import worker
from functions.workflows.jobs.echo import EchoPayload
from functions.workflows.logic import runs
from ninefold_core import aws
from ninefold_core.jobs import build_message
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext

A = TenantContext.system("tenant-aaaa", "workflows")


@pytest.fixture
def queue_url(table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = aws.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    for key, value in {
        "SYSTEM": "workflows",
        "POWERTOOLS_SERVICE_NAME": "workflows",
        "TABLE_NAME": table,
        "JOB_QUEUE_URL": url,
    }.items():
        monkeypatch.setenv(key, value)
    return url


def received(url: str, body: str) -> dict[str, Any]:
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=body)
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], VisibilityTimeout=30)["Messages"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "awsRegion": "us-east-1",
    }


def test_a_good_message_succeeds_and_a_failing_one_is_reported_with_its_backoff(
    queue_url: str, lambda_context: Any
) -> None:
    ok = build_message("workflows.echo", EchoPayload(message="ok"), A)
    flaky = build_message("workflows.echo", EchoPayload(message="flaky", fail_times=1), A)
    records = [received(queue_url, ok.model_dump_json()), received(queue_url, flaky.model_dump_json())]

    response = worker.handler({"Records": records}, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    store = RunStore("ninefold-test-table", A)
    assert runs.get(ok.run_id, store).status == "succeeded"
    flaky_run = runs.get(flaky.run_id, store)
    assert (flaky_run.status, flaky_run.attempts) == ("retrying", 1)
    assert flaky_run.next_attempt_at is not None


def test_a_message_that_is_not_a_job_fails_only_its_record(queue_url: str, lambda_context: Any) -> None:
    records = [received(queue_url, "not json")]
    response = worker.handler({"Records": records}, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
