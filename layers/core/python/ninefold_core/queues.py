"""Dead-letter queue operations shared by `scripts/redrive.py` and the workflows API.

* `redrive` moves messages from a DLQ back to its source queue. Each message is sent to the
  source queue with its body and attributes before it is deleted from the DLQ, so a crash
  mid-way can duplicate a message but never lose one; consumers are idempotent.
* `remove_matching` deletes the DLQ messages whose body matches a predicate (a replayed run's
  message) and makes every other message it looked at visible again at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def redrive(sqs: Any, *, dlq_url: str, queue_url: str, max_messages: int | None = None) -> int:
    moved = 0
    is_fifo = queue_url.endswith(".fifo")
    while max_messages is None or moved < max_messages:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, (max_messages - moved) if max_messages else 10),
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            request: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                request["MessageAttributes"] = message["MessageAttributes"]
            if is_fifo:
                request["MessageGroupId"] = message["Attributes"].get("MessageGroupId", "redrive")
                request["MessageDeduplicationId"] = message["MessageId"]
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def remove_matching(sqs: Any, *, dlq_url: str, matches: Callable[[str], bool], max_scan: int = 100) -> int:
    """Delete the messages (among at most `max_scan` received) whose body `matches`; the others
    are made visible again before returning. Best effort: SQS may not hand out every message."""
    removed = 0
    held: list[str] = []
    try:
        while len(held) + removed < max_scan:
            batch = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                if matches(message["Body"]):
                    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                    removed += 1
                else:
                    held.append(message["ReceiptHandle"])
    finally:
        for handle in held:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return removed
