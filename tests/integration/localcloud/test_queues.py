"""SQS event source mappings: batches, partial failures, redrive to the DLQ, record shape."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from localcloud import LocalCloud
from tests.fixtures.localcloud.handlers import recorder

pytestmark = pytest.mark.integration


def send(cloud: LocalCloud, queue: str, *bodies: dict[str, object], **extra: object) -> None:
    url = cloud.resource(queue).url
    for body in bodies:
        cloud.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body), **extra)


def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_poison_message_reaches_the_dlq_after_max_receive_count(cloud: LocalCloud) -> None:
    send(cloud, "Fixture-Core/WorkQueue", {"poison": True})
    for attempt in (1, 2, 3):
        until(lambda attempt=attempt: len(recorder.get("worker")) == attempt)  # type: ignore[misc]
        cloud.clock.advance(31)  # the queue's visibility timeout is 30 s
    cloud.wait_idle(timeout=10)
    assert [r["attempt"] for r in recorder.get("worker")] == ["1", "2", "3"]
    dlq = cloud.resource("Fixture-Core/WorkDlq").url
    messages = cloud.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"poison": True}]
    cloud.client("sqs").purge_queue(QueueUrl=dlq)


def test_a_good_message_is_deleted_after_one_successful_invocation(cloud: LocalCloud) -> None:
    send(cloud, "Fixture-Core/WorkQueue", {"n": 1})
    cloud.wait_idle(timeout=10)
    assert [r["body"] for r in recorder.get("worker")] == [{"n": 1}]


def test_partial_batch_failures_keep_only_the_reported_items(cloud: LocalCloud) -> None:
    send(cloud, "Fixture-Core/BatchQueue", {"n": 1}, {"n": 2, "fail": True}, {"n": 3})
    until(lambda: len(recorder.get("batch")) >= 3)
    first_batch = [r["body"]["n"] for r in recorder.get("batch")]
    assert sorted(first_batch) == [1, 2, 3]  # one batch thanks to the batching window
    cloud.clock.advance(11)  # the failed one reappears after the 10 s visibility timeout
    until(lambda: len(recorder.get("batch")) == 4)
    assert recorder.get("batch")[3]["body"] == {"n": 2, "fail": True}
    assert recorder.get("batch")[3]["record"]["attributes"]["ApproximateReceiveCount"] == "2"
    purge_batch_queue(cloud)


def test_a_malformed_failure_response_returns_the_whole_batch(cloud: LocalCloud) -> None:
    send(cloud, "Fixture-Core/BatchQueue", {"n": 1}, {"n": 2, "malformed": True})
    until(lambda: len(recorder.get("batch")) >= 2)
    cloud.clock.advance(11)
    until(lambda: len(recorder.get("batch")) >= 4)
    assert sorted(r["body"]["n"] for r in recorder.get("batch")[2:4]) == [1, 2]
    purge_batch_queue(cloud)


def test_records_have_lambdas_sqs_shape(cloud: LocalCloud) -> None:
    send(
        cloud,
        "Fixture-Core/BatchQueue",
        {"n": 7},
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    until(lambda: len(recorder.get("batch")) == 1)
    record = recorder.get("batch")[0]["record"]
    queue = cloud.resource("Fixture-Core/BatchQueue")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["md5OfBody"]
    assert record["md5OfMessageAttributes"]


def purge_batch_queue(cloud: LocalCloud) -> None:
    """Failed messages would keep coming back: clear the queue for the next test."""
    cloud.clock.advance(61)  # SQS allows one purge a minute (on the warp clock here)
    cloud.client("sqs").purge_queue(QueueUrl=cloud.resource("Fixture-Core/BatchQueue").url)


def test_fifo_groups_stay_in_order_across_a_partial_failure(cloud: LocalCloud) -> None:
    queue = cloud.resource("Fixture-Core/OrdersFifo")
    sqs = cloud.client("sqs")
    for group, key, fail in (
        ("g1", "a1", False),
        ("g2", "b1", False),
        ("g1", "a2", True),
        ("g2", "b2", False),
        ("g1", "a3", False),
    ):
        body = json.dumps({"key": key, "fail_once": fail})
        sqs.send_message(QueueUrl=queue.url, MessageBody=body, MessageGroupId=group)
    until(lambda: {r["key"] for r in recorder.get("fifo")} >= {"a1", "b1", "b2"})
    assert "a3" not in {r["key"] for r in recorder.get("fifo")}  # blocked behind the failed a2
    cloud.clock.advance(11)  # a2 and a3 reappear after the 10 s visibility timeout
    cloud.wait_idle(timeout=10)
    by_group: dict[str, list[str]] = {}
    for entry in recorder.get("fifo"):
        by_group.setdefault(entry["group"], []).append(entry["key"])
    assert by_group == {"g1": ["a1", "a2", "a3"], "g2": ["b1", "b2"]}
