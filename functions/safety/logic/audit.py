"""Recording every domain event into its tenant's audit log, and reading it back."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.safety.dal.audit import AuditStore
from functions.safety.models.audit import AuditEvent, AuditPage
from ninefold_core.errors import NotFound
from ninefold_core.events import Envelope, EventData
from ninefold_core.observability import logger


def record(envelope: Envelope[EventData], store: AuditStore, *, now: datetime | None = None) -> None:
    meta = envelope.metadata
    entry = AuditEvent(
        id=meta.id,
        type=meta.type,
        version=meta.version,
        source=meta.source,
        occurred_at=meta.occurred_at,
        recorded_at=now or datetime.now(UTC),
        actor_id=meta.correlation.user_id,
        actor_chain=list(meta.correlation.actor_chain),
        impersonator_id=meta.correlation.impersonator_id,
        request_id=meta.correlation.request_id,
        # Sensitive fields (one-time links in emails) are masked: the log is read by people.
        data=envelope.data.redacted(),
    )
    if not store.record(entry.model_dump(mode="json")):
        logger.info("audit entry already recorded", extra={"event_id": meta.id})


def get(event_id: str, store: AuditStore) -> AuditEvent:
    item = store.get(event_id)
    if item is None:
        raise NotFound("No such audit event.")
    return AuditEvent.model_validate(item)


def page(store: AuditStore, *, limit: int, cursor: str | None) -> AuditPage:
    result = store.page(limit=limit, cursor=cursor)
    return AuditPage(items=[AuditEvent.model_validate(i) for i in result.items], next_cursor=result.cursor)
