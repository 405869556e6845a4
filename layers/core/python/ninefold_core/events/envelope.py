"""The event envelope: `{"data": ..., "metadata": {...}}`.

On the bus, an envelope is one EventBridge entry: `source` is
`ninefold.<producing system>`, `detail-type` is the event type and `detail` is
the envelope itself, so rules can match on `detail.metadata.tenant_id` or any
data field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ninefold_core.tenant import TenantContext


class Correlation(BaseModel):
    """Threads an event back to the request, trace, user and session behind it."""

    model_config = ConfigDict(frozen=True)

    trace_id: str | None = None
    request_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    actor_chain: tuple[str, ...] = ()
    # Set when a platform admin acts as `user_id` (impersonation): the admin, outermost in `actor_chain`.
    impersonator_id: str | None = None
    causation_id: str | None = Field(default=None, description="Id of the event that caused this one, if any.")

    @classmethod
    def from_context(cls, ctx: TenantContext, *, causation_id: str | None = None) -> Correlation:
        return cls(
            trace_id=ctx.trace_id,
            request_id=ctx.request_id,
            user_id=ctx.user_id,
            session_id=ctx.session_id,
            actor_chain=ctx.actor_chain,
            impersonator_id=ctx.impersonator.user_id if ctx.impersonator else None,
            causation_id=causation_id,
        )


class EventMetadata(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    version: int
    tenant_id: str
    source: str
    occurred_at: datetime
    correlation: Correlation = Field(default_factory=Correlation)


class EventData(BaseModel):
    """Base of every event's data. The catalog decorator sets the ClassVars."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    event_version: ClassVar[int] = 1
    producer: ClassVar[str] = ""

    def redacted(self) -> dict[str, Any]:
        """The data as JSON with every field declared `sensitive` masked.

        An event's consumers see the whole event; anything that keeps or shows events to people
        (the audit log, dashboards) stores this instead. A field is sensitive when its schema says
        so: `Field(json_schema_extra={"sensitive": True})`.
        """
        data: dict[str, Any] = self.model_dump(mode="json")
        for name, field in type(self).model_fields.items():
            extra = field.json_schema_extra
            if not (isinstance(extra, dict) and extra.get("sensitive")) or data.get(name) is None:
                continue
            value = data[name]
            data[name] = {key: REDACTED for key in value} if isinstance(value, dict) else REDACTED
        return data


REDACTED = "[redacted]"


DataT = TypeVar("DataT", bound=EventData)


class Envelope(BaseModel, Generic[DataT]):
    model_config = ConfigDict(frozen=True)

    data: DataT
    metadata: EventMetadata

    @property
    def id(self) -> str:
        return self.metadata.id

    @property
    def tenant_id(self) -> str:
        return self.metadata.tenant_id

    def to_detail(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def new_envelope(
    data: DataT,
    ctx: TenantContext,
    *,
    causation_id: str | None = None,
    now: datetime | None = None,
    event_id: str | None = None,
    producer: str | None = None,
) -> Envelope[DataT]:
    """`producer`: the emitting system, required (and only allowed) for an event whose catalogued
    producer is `any`, such as the job runtime's `job_run.changed`."""
    cls = type(data)
    if not cls.event_type:
        raise TypeError(f"{cls.__name__} is not a catalogued event (use @event)")
    if (producer is None) != (cls.producer != "any"):
        raise TypeError(f"{cls.event_type}: name the producing system exactly when the catalogue says 'any'")
    return Envelope[cls](  # type: ignore[valid-type]
        data=data,
        metadata=EventMetadata(
            id=event_id or uuid.uuid4().hex,
            type=cls.event_type,
            version=cls.event_version,
            tenant_id=ctx.tenant_id,
            source=f"ninefold.{producer or cls.producer}",
            occurred_at=now or datetime.now(UTC),
            correlation=Correlation.from_context(ctx, causation_id=causation_id),
        ),
    )
