"""The verified tenant context, parsed once from the authorizer's output.

The identity system's authorizer is the only producer of this context; every
route in every system reads it through `TenantContext.from_http_event` and
checks permissions through `require`. Nothing downstream digs tenant or user
ids out of raw event dictionaries.

The authorizer context travels as flat strings (HTTP API authorizer contexts
are string maps in practice): lists are joined with spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ninefold_core.errors import Forbidden, Unauthorized

# Permissions of the platform's operators (`platform:operate`, `platform:impersonate`): never
# granted by a workspace role, not even by "*"; only a platform role on the user grants them.
PLATFORM_NAMESPACE = "platform"
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
AuthMethod = Literal["session", "api_key", "system"]
# How a session credential reached the authorizer. Cookie-borne credentials are the ones a
# browser attaches on its own, so they are the ones that need CSRF protection.
Credential = Literal["bearer", "cookie"]


class Actor(BaseModel):
    """Someone acting through another identity (an impersonating admin)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    reason: str


class TenantContext(BaseModel):
    """Who is calling, in which tenant, with which permissions."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    user_id: str
    auth_method: AuthMethod = "session"
    credential: Credential | None = None
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = Field(default_factory=frozenset)
    session_id: str | None = None
    api_key_id: str | None = None
    # When the session last proved its user again (password or second factor), epoch seconds:
    # sensitive actions ask for a recent one (see identity's step-up).
    stepped_up_at: int | None = None
    impersonator: Actor | None = None
    request_id: str | None = None
    trace_id: str | None = None

    @field_validator("tenant_id")
    @classmethod
    def _tenant_id_shape(cls, value: str) -> str:
        # Tenant ids become key prefixes: a '#' or an empty id would let one
        # tenant's keys overlap another's.
        if not TENANT_ID_PATTERN.match(value):
            raise ValueError("tenant id must be 8-64 characters of [A-Za-z0-9_-]")
        return value

    @property
    def actor_chain(self) -> tuple[str, ...]:
        """Everyone responsible for this request, outermost first."""
        if self.impersonator is None:
            return (self.user_id,)
        return (self.impersonator.user_id, self.user_id)

    def can(self, permission: str) -> bool:
        if permission in self.permissions:
            return True
        # "members:*" grants every "members:..." permission.
        namespace = permission.split(":", 1)[0]
        if f"{namespace}:*" in self.permissions:
            return True
        # "*" is everything *within a workspace*: a workspace owner is not a platform operator.
        return namespace != PLATFORM_NAMESPACE and "*" in self.permissions

    # --- wire format -----------------------------------------------------

    def to_authorizer_context(self) -> dict[str, str]:
        """What the authorizer returns; the inverse of `from_authorizer_context`."""
        ctx = {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "auth_method": self.auth_method,
            "credential": self.credential or "",
            "roles": " ".join(self.roles),
            "permissions": " ".join(sorted(self.permissions)),
            "session_id": self.session_id or "",
            "api_key_id": self.api_key_id or "",
            "stepped_up_at": str(self.stepped_up_at or ""),
        }
        if self.impersonator is not None:
            ctx["impersonator_id"] = self.impersonator.user_id
            ctx["impersonation_reason"] = self.impersonator.reason
        return ctx

    @classmethod
    def from_authorizer_context(
        cls, context: Mapping[str, Any], *, request_id: str | None = None, trace_id: str | None = None
    ) -> TenantContext:
        try:
            tenant_id = str(context["tenant_id"])
            user_id = str(context["user_id"])
        except KeyError:
            raise Unauthorized("The request carries no verified identity.") from None
        impersonator = None
        if context.get("impersonator_id"):
            impersonator = Actor(
                user_id=str(context["impersonator_id"]), reason=str(context.get("impersonation_reason", ""))
            )
        try:
            return cls(
                tenant_id=tenant_id,
                user_id=user_id,
                auth_method=context.get("auth_method", "session"),
                credential=context.get("credential") or None,
                roles=tuple(_split(context.get("roles"))),
                permissions=frozenset(_split(context.get("permissions"))),
                session_id=str(context.get("session_id") or "") or None,
                api_key_id=str(context.get("api_key_id") or "") or None,
                stepped_up_at=int(context["stepped_up_at"]) if context.get("stepped_up_at") else None,
                impersonator=impersonator,
                request_id=request_id,
                trace_id=trace_id,
            )
        except ValueError:
            raise Unauthorized("The request carries no valid identity.") from None

    @classmethod
    def from_http_event(cls, event: Mapping[str, Any]) -> TenantContext:
        """From an HTTP API (payload 2.0) event whose route has the Lambda authorizer."""
        request_context = event.get("requestContext") or {}
        authorizer = (request_context.get("authorizer") or {}).get("lambda") or {}
        headers = event.get("headers") or {}
        return cls.from_authorizer_context(
            authorizer,
            request_id=request_context.get("requestId"),
            trace_id=headers.get("x-amzn-trace-id"),
        )

    @classmethod
    def system(cls, tenant_id: str, system: str) -> TenantContext:
        """A platform actor working for a tenant (consumers, jobs), e.g. after an event."""
        return cls(tenant_id=tenant_id, user_id=f"system:{system}", auth_method="system", permissions=frozenset({"*"}))


def _split(value: Any) -> Iterable[str]:
    if not value:
        return ()
    if isinstance(value, list | tuple):
        return (str(v) for v in value if v)
    return (part for part in str(value).split() if part)


def require(ctx: TenantContext, *permissions: str) -> None:
    """The one permission check every route uses. All listed permissions are needed."""
    missing = [p for p in permissions if not ctx.can(p)]
    if missing:
        raise Forbidden(
            "You do not have permission to do this.",
            extensions={"missing_permissions": missing},
        )
