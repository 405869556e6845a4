"""What every identity use case shares: the request's facts, correlation, one-time secrets."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import IdentityDb
from ninefold_core.errors import Unauthorized
from ninefold_core.tenant import TenantContext

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class RequestInfo:
    """Facts about the HTTP request a use case may record (never a credential)."""

    request_id: str | None = None
    trace_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None

    def actor(self, tenant_id: str, user_id: str = ANONYMOUS, *, session_id: str | None = None) -> TenantContext:
        """A context for event correlation only: it grants nothing (no roles, no permissions)."""
        return TenantContext(
            tenant_id=tenant_id,
            user_id=user_id,
            session_id=session_id,
            request_id=self.request_id,
            trace_id=self.trace_id,
        )


def in_tenant(ctx: TenantContext, tenant_id: str) -> TenantContext:
    """The caller's correlation, for an event that belongs to another of their workspaces."""
    return ctx if ctx.tenant_id == tenant_id else ctx.model_copy(update={"tenant_id": tenant_id})


def digest(secret: str) -> str:
    """SHA-256 of a random secret. Secrets carry >=256 bits, so no stretching is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now_or(now: float | None) -> float:
    return time.time() if now is None else now


def signed_in_user(db: IdentityDb, user_id: str) -> dict[str, Any]:
    """The caller's user row; a 401 if it is gone (the session outlived its user)."""
    user = db.users.get(user_id)
    if user is None:
        raise Unauthorized("This session has ended; sign in again.")
    return user
