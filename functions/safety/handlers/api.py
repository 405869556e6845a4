"""Safety's HTTP API: the tenant's audit log."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.safety.config import SafetyConfig
from functions.safety.dal.audit import AuditStore
from functions.safety.logic import audit
from functions.safety.models.audit import AuditEvent, AuditPage
from ninefold_core.http import current_config, http_app, http_handler, tenant_context
from ninefold_core.tenant import require

app = http_app()


def _store() -> AuditStore:
    return AuditStore(current_config(app, SafetyConfig).table_name, tenant_context(app))


@app.get("/api/v1/audit-events", tags=["safety"], summary="The workspace's audit log, newest first")
def list_audit_events(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditPage:
    ctx = tenant_context(app)
    require(ctx, "audit:read")
    return audit.page(_store(), limit=limit, cursor=cursor)


@app.get("/api/v1/audit-events/<event_id>", tags=["safety"], summary="One audit event")
def get_audit_event(event_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]) -> AuditEvent:
    ctx = tenant_context(app)
    require(ctx, "audit:read")
    return audit.get(event_id, _store())


handler = http_handler(app, SafetyConfig)
