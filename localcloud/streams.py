"""DynamoDB stream -> Lambda event source mappings, and the TTL sweeper.

moto keeps stream records but its stream mappings need Docker, and its TTL
never deletes. The poller reads `dynamodbstreams` like Lambda does (batch size,
starting position, retry of a failed batch until it succeeds or
MaximumRetryAttempts runs out, ReportBatchItemFailures restarting from the
first failed record). The sweeper deletes items whose TTL attribute is in the
past by the warp clock, and their REMOVE records carry the TTL service identity.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from localcloud import patterns
from localcloud.clients import Clients
from localcloud.clock import WarpClock
from localcloud.intrinsics import REGION
from localcloud.lambdas import LambdaRegistry
from localcloud.sqs_poller import EventSourceMapping, failed_item_ids
from localcloud.workers import Worker

log = logging.getLogger("localcloud.streams")

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _plain(value: Any) -> Any:
    """Typed attribute values as Lambda's JSON shows them (binary as base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return [_plain(v) for v in sorted(value, key=str)]
    return value


def key_fingerprint(keys: dict[str, Any]) -> str:
    return json.dumps(_plain(keys), sort_keys=True)


def lambda_stream_record(record: dict[str, Any], stream_arn: str, received_at: float) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda hands to a stream-triggered function."""
    stream = dict(record.get("dynamodb") or {})
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        stream["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    else:
        stream["ApproximateCreationDateTime"] = float(int(received_at))
    shaped: dict[str, Any] = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": _plain(stream),
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


class TtlMarks:
    """Keys the sweeper deleted, so their stream records can say the TTL service did it."""

    def __init__(self) -> None:
        self._marks: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, table: str, keys: dict[str, Any]) -> None:
        with self._lock:
            self._marks.add((table, key_fingerprint(keys)))

    def take(self, table: str, keys: dict[str, Any]) -> bool:
        mark = (table, key_fingerprint(keys))
        with self._lock:
            if mark in self._marks:
                self._marks.discard(mark)
                return True
        return False


class StreamPoller(Worker):
    idle_interval = 2.0  # writes wake the poller (moto hook); this is the fallback

    def __init__(
        self,
        mapping: EventSourceMapping,
        table_name: str,
        clients: Clients,
        lambdas: LambdaRegistry,
        clock: WarpClock,
        ttl_marks: TtlMarks,
        send_to_arn: Callable[[str, Any], object] | None = None,
    ) -> None:
        super().__init__()
        self.name = f"stream-{mapping.logical_id}"
        self.mapping = mapping
        self.table_name = table_name
        self.clients = clients
        self.lambdas = lambdas
        self.clock = clock
        self.ttl_marks = ttl_marks
        self.send_to_arn = send_to_arn
        self._shard: str | None = None
        self._iterator: str | None = None
        self._attempts = 0

    def prime(self) -> None:
        """Take the starting position now (LATEST means 'after what exists at start-up')."""
        streams = self.clients.get("dynamodbstreams")
        description = streams.describe_stream(StreamArn=self.mapping.source_arn)["StreamDescription"]
        self._shard = description["Shards"][0]["ShardId"]
        position = "TRIM_HORIZON" if self.mapping.starting_position == "TRIM_HORIZON" else "LATEST"
        self._iterator = streams.get_shard_iterator(
            StreamArn=self.mapping.source_arn, ShardId=self._shard, ShardIteratorType=position
        )["ShardIterator"]

    def cycle(self) -> bool:
        if self._iterator is None:
            self.prime()
        streams = self.clients.get("dynamodbstreams")
        response = streams.get_records(ShardIterator=self._iterator, Limit=self.mapping.batch_size)
        raw_records: list[dict[str, Any]] = response.get("Records") or []
        following = response.get("NextShardIterator")
        if not raw_records:
            self._iterator = following or self._iterator
            self.status = ""
            return False
        now = self.clock.now()
        records = [self._shape(r, now) for r in raw_records]
        if self.mapping.filters:
            records = [r for r in records if any(patterns.matches(f, r) for f in self.mapping.filters)]
        retry_from = self._invoke(records) if records else None
        if retry_from is None:
            self._iterator = following
            self._attempts = 0
            self.status = ""
            self.backing_off = False
            return True
        self._retry(records, retry_from, following)
        return True

    def _shape(self, record: dict[str, Any], now: float) -> dict[str, Any]:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        if record.get("eventName") == "REMOVE" and self.ttl_marks.take(self.table_name, keys):
            record = {**record, "userIdentity": TTL_IDENTITY}
        return lambda_stream_record(record, self.mapping.source_arn, now)

    def _invoke(self, records: list[dict[str, Any]]) -> str | None:
        """None on success, else the sequence number to resume from."""
        result = self.lambdas.invoke(self.mapping.function, {"Records": records}, source=f"dynamodb:{self.table_name}")
        first = str(records[0]["dynamodb"]["SequenceNumber"])
        if not result.ok:
            return first
        if not self.mapping.report_batch_item_failures:
            return None
        sequence_numbers = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
        failed = failed_item_ids(result.payload, set(sequence_numbers))
        if failed is None:
            return first
        for number in sequence_numbers:
            if number in failed:
                return number
        return None

    def _retry(self, records: list[dict[str, Any]], retry_from: str, following: str | None) -> None:
        self._attempts += 1
        limit = self.mapping.maximum_retry_attempts
        if limit >= 0 and self._attempts > limit:
            self._give_up(records)
            self._iterator = following
            self._attempts = 0
            return
        self.status = f"retrying a failed batch from {retry_from} (attempt {self._attempts})"
        self.backing_off = True
        self._iterator = self.clients.get("dynamodbstreams").get_shard_iterator(
            StreamArn=self.mapping.source_arn,
            ShardId=self._shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=retry_from,
        )["ShardIterator"]
        # Lambda backs off between retries of a stream batch.
        self._stopping.wait(min(2.0, 0.1 * 2**self._attempts))

    def _give_up(self, records: list[dict[str, Any]]) -> None:
        destination = self.mapping.on_failure
        log.warning("%s: giving up on a batch after %s attempts", self.name, self._attempts)
        if not destination or self.send_to_arn is None:
            return
        self.send_to_arn(
            destination,
            {
                "requestContext": {
                    "functionArn": self.mapping.function_name,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": self._attempts,
                },
                "DDBStreamBatchInfo": {
                    "shardId": self._shard,
                    "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                    "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                    "batchSize": len(records),
                    "streamArn": self.mapping.source_arn,
                },
            },
        )


class TtlSweeper(Worker):
    name = "ttl-sweeper"
    idle_interval = 2.0

    def __init__(self, clients: Clients, clock: WarpClock, marks: TtlMarks) -> None:
        super().__init__()
        self.clients = clients
        self.clock = clock
        self.marks = marks
        self.tables: dict[str, str] = {}  # table name -> TTL attribute

    def watch(self, table: str, attribute: str) -> None:
        self.tables[table] = attribute

    def cycle(self) -> bool:
        deleted = 0
        for table, attribute in list(self.tables.items()):
            deleted += self._sweep(table, attribute)
        return deleted > 0

    def _sweep(self, table: str, attribute: str) -> int:
        dynamodb = self.clients.get("dynamodb")
        key_names = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
        now = int(self.clock.now())
        deleted = 0
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="#ttl < :now",
            ExpressionAttributeNames={"#ttl": attribute},
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
        for page in pages:
            for item in page.get("Items") or []:
                keys = {name: item[name] for name in key_names}
                self.marks.add(table, keys)
                try:
                    dynamodb.delete_item(
                        TableName=table,
                        Key=keys,
                        ConditionExpression="#ttl < :now",
                        ExpressionAttributeNames={"#ttl": attribute},
                        ExpressionAttributeValues={":now": {"N": str(now)}},
                    )
                    deleted += 1
                except dynamodb.exceptions.ConditionalCheckFailedException:
                    self.marks.take(table, keys)  # refreshed meanwhile: not expired any more
        return deleted
