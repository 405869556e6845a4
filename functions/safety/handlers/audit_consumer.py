"""Consumes every Ninefold event from the audit queue into the tenant's audit log."""

from __future__ import annotations

from typing import Any

from functions.safety.config import SafetyConfig
from functions.safety.dal.audit import AuditStore
from functions.safety.logic import audit
from ninefold_core.consumers import consume_events
from ninefold_core.events import Envelope, EventData
from ninefold_core.observability import lambda_handler
from ninefold_core.tenant import TenantContext


@lambda_handler(SafetyConfig)
def handler(event: dict[str, Any], context: Any, config: SafetyConfig) -> dict[str, Any]:
    def record(envelope: Envelope[EventData], ctx: TenantContext) -> None:
        audit.record(envelope, AuditStore(config.table_name, ctx))

    return consume_events(event, context, config, record, consumer="audit")
