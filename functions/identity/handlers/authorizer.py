"""The HTTP API Lambda authorizer: a bearer session token in, a TenantContext out.

Simple responses (payload 2.0): `{"isAuthorized": bool, "context": {...}}`. The
context is `TenantContext.to_authorizer_context()`, the only shape any route
parses. Tracing is off here: this runs before every request, and the X-Ray SDK
import is not worth its cold-start cost on this path.
"""

from __future__ import annotations

from typing import Any

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import SessionStore
from functions.identity.logic.sessions import authenticate, bearer_token
from ninefold_core.observability import lambda_handler, logger

DENY: dict[str, Any] = {"isAuthorized": False}


@lambda_handler(IdentityConfig, trace=False)
def handler(event: dict[str, Any], context: Any, config: IdentityConfig) -> dict[str, Any]:
    headers = event.get("headers") or {}
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return DENY
    ctx = authenticate(token, SessionStore(config.table_name), config.table_name)
    if ctx is None:
        logger.info("denied: unknown or expired credential")
        return DENY
    return {"isAuthorized": True, "context": ctx.to_authorizer_context()}
