from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEvent(BaseModel):
    """One entry of a tenant's audit log: an event, who caused it and when."""

    id: str
    type: str
    version: int
    source: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str | None = None
    actor_chain: list[str]
    impersonator_id: str | None = Field(
        default=None, description="The platform admin who acted as `actor_id` (impersonation), if any."
    )
    request_id: str | None = None
    data: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None = None
