"""The HTTP API Lambda authorizer: a session credential in, a TenantContext out.

The credential is the `Authorization: Bearer nf_s_…` header (API clients), the
`__Host-nf_session` cookie (browsers), or a workspace API key (`X-API-Key: nf_k_…` or
`Authorization: Bearer nf_k_…`; see `logic.api_keys`). A request that offers an API key is
judged as one only, never as a session. The authorizer declares no identity source, so API
Gateway calls it for every request, with or without a credential, and never caches (ADR 0011);
this function can, keyed on the credential's hash, when `AUTHORIZER_CACHE_SECONDS` > 0.
Writes made with the cookie must carry the session's CSRF token (`X-CSRF-Token` = `nf_csrf`);
without it the request is denied here, before any system's code runs.

Simple responses (payload 2.0): `{"isAuthorized": bool, "context": {...}}`. The context is
`TenantContext.to_authorizer_context()`, the only shape any route parses; it says which
credential was used and never carries the credential itself. Tracing is off here: this runs
before every request, and the X-Ray SDK import is not worth its cold-start cost on this path.
"""

from __future__ import annotations

import time
from typing import Any

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import api_keys, sessions, usage
from functions.identity.logic.auth_cache import AuthCache
from ninefold_core.observability import lambda_handler, logger
from ninefold_core.tenant import TenantContext

DENY: dict[str, Any] = {"isAuthorized": False}
# Per container; empty unless AUTHORIZER_CACHE_SECONDS > 0 (logic/auth_cache.py).
CACHE = AuthCache()


@lambda_handler(IdentityConfig, trace=False)
def handler(event: dict[str, Any], context: Any, config: IdentityConfig) -> dict[str, Any]:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if sessions.presents_api_key(headers):
        return _api_key(headers, IdentityDb(config.table_name), config.authorizer_cache_seconds)
    cookies = sessions.parse_cookies(event.get("cookies"), headers.get("cookie"))
    credential = sessions.credential_from(headers, cookies)
    if credential is None:
        return DENY
    db = IdentityDb(config.table_name)
    policy = sessions.SessionPolicy.from_config(config)
    now = time.time()
    cached = CACHE.get(credential.token, now=now)
    found = cached or sessions.authenticate(credential.token, db, policy, credential=credential.kind, now=now)
    if found is None:
        logger.info("denied: unknown or ended session")
        return DENY
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "")
    if credential.kind == "cookie" and not sessions.csrf_ok(
        found.session, method=method, cookie=cookies.get(sessions.CSRF_COOKIE), header=headers.get(sessions.CSRF_HEADER)
    ):
        logger.info("denied: cookie write without a matching CSRF token")
        return DENY
    if cached is None:
        sessions.touch(db, found.session, policy, now=now)
        CACHE.put(
            credential.token,
            found,
            now=now,
            ttl=config.authorizer_cache_seconds,
            not_after=policy.idle_deadline(found.session),
        )
    return _allow(db, found.ctx)


def _api_key(headers: dict[str, str], db: IdentityDb, cache_seconds: int) -> dict[str, Any]:
    """An API key (`X-API-Key` or `Authorization: Bearer nf_k_…`): no cookie, so no CSRF check."""
    token = sessions.api_key_from(headers)
    now = time.time()
    ctx = CACHE.get(token, now=now) if token else None
    if ctx is None and token:
        ctx = api_keys.authenticate(token, db, now=now)
        if ctx is not None:
            CACHE.put(token, ctx, now=now, ttl=cache_seconds)
    if ctx is None:
        logger.info("denied: malformed, unknown, revoked or expired API key")
        return DENY
    return _allow(db, ctx)


def _allow(db: IdentityDb, ctx: TenantContext) -> dict[str, Any]:
    """Authorized: the request counts as one API call of its workspace (billing usage)."""
    usage.count_api_call(db, ctx.tenant_id)
    return {"isAuthorized": True, "context": ctx.to_authorizer_context()}
