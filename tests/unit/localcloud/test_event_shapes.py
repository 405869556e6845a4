"""Records handed to SQS- and stream-triggered functions, and batch failure responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from localcloud.sqs_poller import failed_item_ids, filter_view, lambda_record
from localcloud.streams import TTL_IDENTITY, TtlMarks, lambda_stream_record

pytestmark = pytest.mark.unit

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q.fifo"


def test_sqs_records_have_lambdas_shape() -> None:
    message: dict[str, Any] = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": '{"a": 1}',
        "Attributes": {
            "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "2",
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d",
            "SequenceNumber": "9",
        },
        "MD5OfMessageAttributes": "md5a",
        "MessageAttributes": {
            "kind": {"StringValue": "x", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }
    record = lambda_record(message, QUEUE_ARN)
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
        "MessageGroupId",
        "MessageDeduplicationId",
    ]
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "x",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == QUEUE_ARN
    assert record["awsRegion"] == "us-east-1"


def test_a_message_without_attributes_has_no_attribute_digest() -> None:
    record = lambda_record({"MessageId": "m", "ReceiptHandle": "r", "Body": "x", "MD5OfBody": "y"}, QUEUE_ARN)
    assert "md5OfMessageAttributes" not in record
    assert record["messageAttributes"] == {}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),
        ({"batchItemFailures": [{"id": "a"}]}, None),
        ({"batchItemFailures": "a"}, None),
        ("ok", None),
    ],
)
def test_batch_item_failure_responses(response: Any, expected: set[str] | None) -> None:
    assert failed_item_ids(response, {"a", "b"}) == expected


def test_filters_see_json_bodies_parsed() -> None:
    assert filter_view({"body": '{"kind": "a"}'})["body"] == {"kind": "a"}
    assert filter_view({"body": "plain"})["body"] == "plain"


def test_stream_records_have_lambdas_shape_with_base64_binaries() -> None:
    record = {
        "eventID": "e",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "blob": {"B": b"\x00"}, "set": {"BS": [b"\x01"]}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    shaped = lambda_stream_record(record, "arn:stream", received_at=0)
    assert shaped["eventVersion"] == "1.1"
    assert shaped["eventSourceARN"] == "arn:stream"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1767225600.0
    assert shaped["dynamodb"]["NewImage"]["blob"] == {"B": "AA=="}
    assert shaped["dynamodb"]["NewImage"]["set"] == {"BS": ["AQ=="]}
    assert "userIdentity" not in shaped


def test_ttl_marks_are_taken_once() -> None:
    marks = TtlMarks()
    marks.add("t", {"pk": {"S": "a"}})
    assert marks.take("t", {"pk": {"S": "a"}}) is True
    assert marks.take("t", {"pk": {"S": "a"}}) is False
    assert TTL_IDENTITY == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
