"""SQS -> Lambda event source mappings with Lambda's poller semantics.

moto invokes SQS mappings synchronously, one record at a time and never
retries; this poller behaves like Lambda's: batches up to BatchSize within
MaximumBatchingWindowInSeconds, leaves failed messages to reappear after the
queue's visibility timeout (so moto's redrive moves them to the DLQ after
maxReceiveCount receives), and with ReportBatchItemFailures deletes all but the
reported items -- or none, if the response is malformed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from localcloud import patterns
from localcloud.clients import Clients
from localcloud.clock import WarpClock
from localcloud.intrinsics import ACCOUNT_ID, REGION
from localcloud.lambdas import LambdaRegistry

log = logging.getLogger("localcloud.sqs")

_LAMBDA_ATTRIBUTE_ORDER = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
)


@dataclass
class EventSourceMapping:
    key: str
    logical_id: str
    stack: str
    cdk_path: str | None
    uuid: str
    function: str  # function key in the registry
    function_name: str
    source_arn: str
    kind: str  # "sqs" | "dynamodb"
    batch_size: int
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True
    filters: list[dict[str, Any]] = field(default_factory=list)
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = -1
    on_failure: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "cdk_path": self.cdk_path,
            "uuid": self.uuid,
            "kind": self.kind,
            "source_arn": self.source_arn,
            "function": self.function_name,
            "function_key": self.function,
            "batch_size": self.batch_size,
            "maximum_batching_window_in_seconds": self.batching_window,
            "report_batch_item_failures": self.report_batch_item_failures,
            "enabled": self.enabled,
            "filters": self.filters,
            "starting_position": self.starting_position if self.kind == "dynamodb" else None,
        }


def queue_url(moto_url: str, queue_arn: str) -> str:
    return f"{moto_url}/{ACCOUNT_ID}/{queue_arn.split(':')[-1]}"


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage message in the shape Lambda hands to an SQS-triggered function."""
    system = message.get("Attributes") or {}
    attributes = {name: system[name] for name in _LAMBDA_ATTRIBUTE_ORDER if name in system}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION})
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        shaped["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    shaped["stringListValues"] = list(value.get("StringListValues") or [])
    shaped["binaryListValues"] = list(value.get("BinaryListValues") or [])
    shaped["dataType"] = value.get("DataType", "String")
    return shaped


def failed_item_ids(response: Any, batch_ids: set[str]) -> set[str] | None:
    """Items to keep per a ReportBatchItemFailures response; None means the whole batch failed.

    Follows the Lambda developer guide: null, {} or an empty/null list is success; a
    non-object response, an item without `itemIdentifier`, or an empty, null or
    unknown identifier fails the whole batch.
    """
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    kept: set[str] = set()
    for item in failures:
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            return None
        identifier = item["itemIdentifier"]
        if not isinstance(identifier, str) or not identifier or identifier not in batch_ids:
            return None
        kept.add(identifier)
    return kept


def filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What a FilterCriteria pattern sees: the record with a JSON body parsed."""
    view = dict(record)
    with contextlib.suppress(TypeError, ValueError):
        view["body"] = json.loads(record["body"])
    return view


class SqsPoller:
    def __init__(
        self, mapping: EventSourceMapping, clients: Clients, lambdas: LambdaRegistry, clock: WarpClock, moto_url: str
    ) -> None:
        self.mapping = mapping
        self.clients = clients
        self.lambdas = lambdas
        self.clock = clock
        self.queue_url = queue_url(moto_url, mapping.source_arn)
        self.queue_name = mapping.source_arn.split(":")[-1]
        self.fifo = self.queue_name.endswith(".fifo")
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self.holding = False  # a received batch not yet processed (e.g. in the batching window)
        self._thread = threading.Thread(target=self._run, name=f"localcloud-sqs-{mapping.logical_id}", daemon=True)

    def kick(self) -> None:
        """Poll now (a FIFO poller naps between short polls; see `_receive`)."""
        self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self.poll_once()
                failures = 0
            except Exception as exc:
                if self._stopping.is_set():
                    return
                failures += 1
                log.warning("SQS poller for %s: %s", self.queue_name, exc)
                self._stopping.wait(min(5.0, 0.2 * 2**failures))

    def poll_once(self) -> int:
        try:
            messages = self._receive_batch()
            if messages:
                self._process(messages)
        finally:
            self.holding = False
        return len(messages)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        if self.fifo:
            # moto's long poll spins while a FIFO queue holds visible messages of a group that is
            # in flight (they wake the wait but cannot be delivered): short polls and a nap instead.
            wait = 0
        response = self.clients.get("sqs").receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages") or []
        if self.fifo and not messages:
            self._wake.wait(0.1)
            self._wake.clear()
        return messages

    def _receive_batch(self) -> list[dict[str, Any]]:
        wanted = self.mapping.batch_size
        messages = self._receive(wanted, wait=1)
        self.holding = bool(messages)
        if not messages or len(messages) >= wanted or self.mapping.batching_window <= 0:
            return messages
        deadline = self.clock.now() + self.mapping.batching_window
        while len(messages) < wanted and not self._stopping.is_set():
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                break
            messages += self._receive(wanted - len(messages), wait=min(1, math.ceil(remaining)))
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        arn = self.mapping.source_arn
        records = [lambda_record(message, arn) for message in messages]
        if self.mapping.filters:
            kept = [r for r in records if any(patterns.matches(f, filter_view(r)) for f in self.mapping.filters)]
            dropped = [r for r in records if r not in kept]
            self._delete(dropped)  # Lambda deletes messages its filters reject
            records = kept
        if not records:
            return
        result = self.lambdas.invoke(self.mapping.function, {"Records": records}, source=f"sqs:{self.queue_name}")
        if not result.ok:
            return  # the batch reappears after the visibility timeout
        if not self.mapping.report_batch_item_failures:
            self._delete(records)
            return
        keep = failed_item_ids(result.payload, {r["messageId"] for r in records})
        if keep is None:
            log.warning("%s returned a malformed batchItemFailures response; the batch returns", self.mapping.function)
            return
        self._delete([r for r in records if r["messageId"] not in keep])

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.clients.get("sqs").delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )
