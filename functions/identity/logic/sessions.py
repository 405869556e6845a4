"""Sessions: opaque random tokens, stored only as their SHA-256.

A token carries 256 random bits, so a fast hash is enough (no password-style
stretching); the database never holds anything that could be replayed.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from functions.identity.dal.store import SessionStore, WorkspaceStore
from functions.identity.models.roles import permissions_for
from ninefold_core.tenant import TenantContext

TOKEN_PREFIX = "nf_s_"  # noqa: S105 (a public prefix that makes leaked tokens greppable, not a secret)
ABSOLUTE_LIFETIME_SECONDS = 30 * 24 * 3600


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: str
    expires_at: int


def issue(store: SessionStore, *, user_id: str, tenant_id: str, now: float | None = None) -> IssuedSession:
    now = time.time() if now is None else now
    token = new_token()
    session_id = uuid.uuid4().hex
    expires_at = int(now) + ABSOLUTE_LIFETIME_SECONDS
    store.put(
        hash_token(token),
        {
            "session_id": session_id,
            "user_id": user_id,
            "tenant_id": tenant_id,
            "created_at": int(now),
            "expires_at": expires_at,
        },
        expires_at=expires_at,
    )
    return IssuedSession(token=token, session_id=session_id, expires_at=expires_at)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    return value.strip()


def authenticate(
    token: str, sessions: SessionStore, table_name: str, *, now: float | None = None
) -> TenantContext | None:
    """The tenant context a token stands for, or None (unknown, expired, no longer a member)."""
    now = time.time() if now is None else now
    session = sessions.get(hash_token(token))
    if session is None or session["expires_at"] <= now or session.get("revoked"):
        return None
    probe = TenantContext(tenant_id=session["tenant_id"], user_id=session["user_id"])
    member = WorkspaceStore(table_name, probe, sessions.repo.client).member(session["user_id"])
    if member is None:
        return None
    roles = tuple(member["roles"])
    return TenantContext(
        tenant_id=session["tenant_id"],
        user_id=session["user_id"],
        auth_method="session",
        roles=roles,
        permissions=permissions_for(roles),
        session_id=session["session_id"],
    )
