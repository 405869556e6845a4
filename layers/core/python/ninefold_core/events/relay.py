"""The outbox relay: DynamoDB stream → EventBridge.

Wired by every system stack onto its own table's stream. Records that are not
outbox inserts are skipped (the event source mapping also filters them out in
the cloud). Failures are reported per record, so the stream retries from the
first failed record without re-sending earlier ones.
"""

from __future__ import annotations

import json
from typing import Any

from ninefold_core.config import BaseConfig, load_config
from ninefold_core.events.outbox import OUTBOX_KIND
from ninefold_core.events.publisher import EventPublisher


class RelayConfig(BaseConfig):
    pass


def outbox_detail(record: dict[str, Any]) -> dict[str, Any] | None:
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if (image.get("kind") or {}).get("S") != OUTBOX_KIND:
        return None
    detail: dict[str, Any] = json.loads(image["envelope"]["S"])
    return detail


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    config = load_config(RelayConfig)
    publisher = EventPublisher(config.event_bus_name)

    def relay(record: DynamoDBRecord) -> None:
        detail = outbox_detail(record.raw_event)
        if detail is not None:
            publisher.publish_details([detail])

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(process_partial_response(event=event, record_handler=relay, processor=processor, context=context))
