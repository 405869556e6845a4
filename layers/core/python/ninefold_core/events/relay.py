"""The outbox relay: DynamoDB stream → EventBridge.

Wired by every system stack onto its own table's stream. It forwards two kinds of records:
* outbox inserts (ADR 0006): the envelope written with the state change it describes;
* job run writes (ADR 0014): every insert or change of a run record of the job runtime becomes a
  `job_run.changed` snapshot, with an id derived from the run and its revision (so a replayed
  stream record is deduplicated downstream like any redelivered event).
Other records are skipped (the event source mapping also filters them out in the cloud).
Failures are reported per record, so the stream retries from the first failed record without
re-sending earlier ones.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ninefold_core.config import BaseConfig, load_config
from ninefold_core.dynamo import deserialize
from ninefold_core.events.outbox import OUTBOX_KIND
from ninefold_core.events.publisher import EventPublisher

RUN_KIND = "job_run"  # ninefold_core.jobs.store.RUN_KIND (not imported: the relay stays light)
RUN_EVENT_NAMESPACE = uuid.UUID("5b1f3c52-9a43-4a7e-8d0e-6f1b7f2d9c11")


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


def run_change_detail(record: dict[str, Any], system: str) -> dict[str, Any] | None:
    """The `job_run.changed` envelope for a stream record of a run write, else None."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if (image.get("kind") or {}).get("S") != RUN_KIND:
        return None
    from ninefold_core.events.envelope import new_envelope
    from ninefold_core.events.schemas.jobs import JobRunChanged, inline
    from ninefold_core.tenant import TenantContext

    run = deserialize(image)
    fields = {name: run[name] for name in JobRunChanged.model_fields if name in run and run[name] is not None}
    data = JobRunChanged.model_validate(
        fields | {"system": system, "payload": inline(run.get("payload") or {}), "result": inline(run.get("result"))}
    )
    created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")  # epoch seconds in Lambda events
    if created is not None and not isinstance(created, datetime):
        created = datetime.fromtimestamp(float(created), UTC)
    envelope = new_envelope(
        data,
        TenantContext.system(str(run["tenant_id"]), system),
        event_id=uuid.uuid5(RUN_EVENT_NAMESPACE, f"{system}:{data.run_id}:{data.revision}").hex,
        now=created,
        producer=system,
    )
    return envelope.to_detail()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    config = load_config(RelayConfig)
    publisher = EventPublisher(config.event_bus_name)

    def relay(record: DynamoDBRecord) -> None:
        detail = outbox_detail(record.raw_event) or run_change_detail(record.raw_event, config.system)
        if detail is not None:
            publisher.publish_details([detail])

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(process_partial_response(event=event, record_handler=relay, processor=processor, context=context))
