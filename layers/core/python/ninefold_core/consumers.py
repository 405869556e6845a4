"""Queue consumers: partial batch failures and idempotent records.

`consume_events(event, context, config, handle)` processes an SQS batch whose
messages carry Ninefold envelopes (delivered by an EventBridge rule, or sent
straight to the queue). Each record is:

1. parsed against the event catalog (a poison message fails only its record,
   and after the queue's maxReceiveCount lands in the DLQ with its body intact);
2. processed at most once per envelope id and consumer, with Powertools
   idempotency persisted in the system's own table under
   `P#idempotency#<service>` (a duplicate delivery, a redrive or a retry after a
   crash returns the stored result instead of running again);
3. reported individually, so one bad record never makes the good ones run twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ninefold_core import aws
from ninefold_core.config import BaseConfig
from ninefold_core.events.catalog import parse_envelope
from ninefold_core.events.envelope import Envelope, EventData
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600

EnvelopeHandler = Callable[[Envelope[EventData], TenantContext], None]


def envelope_detail(body: str) -> dict[str, Any]:
    """The envelope inside an SQS body: an EventBridge event, or the envelope itself."""
    message = json.loads(body)
    if isinstance(message, dict) and "detail-type" in message and isinstance(message.get("detail"), dict):
        detail: dict[str, Any] = message["detail"]
        return detail
    if not isinstance(message, dict):
        raise ValueError("message body is not a JSON object")
    return message


def persistence_layer(config: BaseConfig) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=config.table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=f"P#idempotency#{config.service}",
        expiry_attr="ttl",
        boto3_client=aws.client("dynamodb"),
    )


def consume_events(
    event: dict[str, Any],
    context: Any,
    config: BaseConfig,
    handle: EnvelopeHandler,
    *,
    consumer: str,
    idempotent: bool = True,
) -> dict[str, Any]:
    """`idempotent=False` only for a handler that is idempotent by itself (e.g. a write guarded by a
    version): it skips the two bookkeeping writes per record of step 2."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    idempotency = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_TTL_SECONDS, raise_on_no_idempotency_key=True)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        idempotency.register_lambda_context(context)
    persistence = persistence_layer(config)

    def record_handler(record: SQSRecord) -> None:
        envelope = parse_envelope(envelope_detail(record.body))
        ctx = TenantContext.system(envelope.tenant_id, config.system)
        logger.append_keys(tenant_id=envelope.tenant_id, event_id=envelope.id, event_type=envelope.metadata.type)
        logger.set_correlation_id(envelope.metadata.correlation.request_id or envelope.id)
        if not idempotent:
            handle(envelope, ctx)
            return

        @idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=idempotency)
        def process(key: dict[str, str]) -> None:
            handle(envelope, ctx)

        process(key={"consumer": consumer, "event_id": envelope.id})

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
