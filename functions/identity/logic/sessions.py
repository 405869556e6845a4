"""Sessions: opaque random tokens, stored only as their SHA-256.

A token carries 256 random bits, so a fast hash is enough (no password-style stretching); the
database never holds anything that could be replayed. A session ends at the first of:

* its absolute lifetime (30 days from sign-in),
* its idle timeout (7 days without a request; each request slides it, writing at most once a
  minute),
* revocation: its row is deleted (sign-out, revoke one, rotation), or its user's `generation`
  moves past the one it was issued under (sign out everywhere, password change or reset,
  disabling). The generation check makes "revoke everything" a single conditional write that
  takes effect on the next request, however many sessions the user has; deleting their rows
  afterwards is clean-up (with a `session.revoked` event each).

Browsers carry the token in the `__Host-nf_session` cookie; writes made with that cookie must
echo the CSRF token (`nf_csrf` cookie → `X-CSRF-Token` header), which must also be the one
issued with this session (its SHA-256 is on the session row). See ADR 0011.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic.access import resolve, store_for
from functions.identity.logic.common import RequestInfo, digest, in_tenant, now_or
from functions.identity.models.api import SessionInfo, SessionList
from functions.identity.models.roles import platform_permissions
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Forbidden, NotFound, Unauthorized
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import (
    SessionCreated,
    SessionCreatedReason,
    SessionRevoked,
    SessionRevokedReason,
)
from ninefold_core.observability import logger
from ninefold_core.tenant import Actor, TenantContext

TOKEN_PREFIX = "nf_s_"  # noqa: S105 (a public prefix that makes leaked tokens greppable, not a secret)
SESSION_COOKIE = "__Host-nf_session"
CSRF_COOKIE = "nf_csrf"
CSRF_HEADER = "x-csrf-token"
# API keys (logic.api_keys) arrive in their own header or as a bearer token with their own prefix.
API_KEY_PREFIX = "nf_k_"
API_KEY_HEADER = "x-api-key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Two items per revoked session (the delete and its event); TransactWriteItems takes 100.
_CLEANUP_CHUNK = 50

CredentialKind = Literal["bearer", "cookie"]
IMPERSONATE = "platform:impersonate"


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 7 * 24 * 3600
    absolute_seconds: int = 30 * 24 * 3600
    touch_seconds: int = 60

    @classmethod
    def from_config(cls, config: IdentityConfig) -> SessionPolicy:
        return cls(
            idle_seconds=config.session_idle_seconds,
            absolute_seconds=config.session_absolute_seconds,
            touch_seconds=config.session_touch_seconds,
        )

    def idle_deadline(self, session: Mapping[str, Any]) -> int:
        return min(int(session["expires_at"]), int(session["last_seen_at"]) + self.idle_seconds)

    def is_live(self, session: Mapping[str, Any], now: float) -> bool:
        return now < self.idle_deadline(session)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    csrf_token: str
    session_id: str
    user_id: str
    tenant_id: str
    expires_at: int
    idle_expires_at: int


@dataclass(frozen=True)
class Credential:
    token: str
    kind: CredentialKind


@dataclass(frozen=True)
class Authenticated:
    ctx: TenantContext
    session: dict[str, Any]


def hash_token(token: str) -> str:
    return digest(token)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


# --- credentials ---------------------------------------------------------------------------


def bearer_token(authorization: str | None, *, prefix: str = TOKEN_PREFIX) -> str | None:
    """The `Bearer` value of an Authorization header if it starts with `prefix` (a session's by default)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(prefix):
        return None
    return value


def presents_api_key(headers: Mapping[str, str]) -> bool:
    """Whether the request offers an API key at all: it is then judged as one, never as a session."""
    return (
        bool(headers.get(API_KEY_HEADER, "").strip())
        or bearer_token(headers.get("authorization"), prefix=API_KEY_PREFIX) is not None
    )


def api_key_from(headers: Mapping[str, str]) -> str | None:
    """The API key offered as `X-API-Key: nf_k_…` or `Authorization: Bearer nf_k_…`, or None: none, a
    malformed `X-API-Key`, or one beside an Authorization header that does not carry the same key."""
    header = headers.get(API_KEY_HEADER, "").strip()
    authorization = headers.get("authorization")
    bearer = bearer_token(authorization, prefix=API_KEY_PREFIX)
    if not header:
        return bearer
    if not header.startswith(API_KEY_PREFIX) or (authorization and bearer != header):
        return None
    return header


def parse_cookies(cookies: Iterable[str] | None, header: str | None = None) -> dict[str, str]:
    """`name=value` pairs from payload 2.0 `cookies` (or a raw Cookie header); first one wins."""
    parts = list(cookies or [])
    if not parts and header:
        parts = header.split(";")
    found: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip()
    return found


def credential_from(headers: Mapping[str, str], cookies: Mapping[str, str]) -> Credential | None:
    """The bearer header if there is one (a malformed one never falls back to the cookie), else the cookie."""
    authorization = headers.get("authorization")
    if authorization:
        token = bearer_token(authorization)
        return Credential(token, "bearer") if token else None
    cookie = cookies.get(SESSION_COOKIE, "")
    if cookie.startswith(TOKEN_PREFIX):
        return Credential(cookie, "cookie")
    return None


def csrf_ok(session: Mapping[str, Any], *, method: str, cookie: str | None, header: str | None) -> bool:
    """Double submit, bound to the session: header == cookie == the token issued with the session."""
    if method.upper() not in UNSAFE_METHODS:
        return True
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        return False
    return hmac.compare_digest(hash_token(header).encode(), str(session.get("csrf_hash", "")).encode())


# --- opening and closing -------------------------------------------------------------------


def open_ops(
    db: IdentityDb,
    *,
    user_id: str,
    tenant_id: str,
    generation: int,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float,
    replaces: Mapping[str, Any] | None = None,
    replaced_because: SessionRevokedReason = "rotated",
    stepped_up: bool = True,
    created_because: SessionCreatedReason | None = None,
    impersonator: Actor | None = None,
    expires_at: int | None = None,
) -> tuple[IssuedSession, list[dict[str, Any]]]:
    """A new session row and its `session.created` event, to commit in the caller's transaction.

    `impersonator`: a platform admin opens this session as `user_id` (see `logic.impersonation`);
    `expires_at` shortens the absolute lifetime (an impersonation's time box).
    """
    if replaces is not None and replaces.get("impersonator_id") and impersonator is None:
        # What replaces an impersonation (rotation, workspace switch) stays one: same admin, same
        # time box, never stepped up. Otherwise switching would shed the impersonator.
        impersonator = impersonator_of(replaces)
        boxed = int(replaces["expires_at"])
        expires_at = boxed if expires_at is None else min(int(expires_at), boxed)
        stepped_up = False
    token, csrf = new_token(), secrets.token_urlsafe(32)
    session_id = "ses_" + uuid.uuid4().hex
    issued_at = int(now)
    lifetime_end = issued_at + policy.absolute_seconds
    expires_at = lifetime_end if expires_at is None else min(int(expires_at), lifetime_end)
    session: dict[str, Any] = {
        "session_id": session_id,
        "token_hash": hash_token(token),
        "user_id": user_id,
        "tenant_id": tenant_id,
        "generation": generation,
        "created_at": issued_at,
        "last_seen_at": issued_at,
        "expires_at": expires_at,
        "csrf_hash": hash_token(csrf),
        # Opening a session proves the user (sign-in checks the password and second factor).
        "stepped_up_at": issued_at if stepped_up else None,
        "ip_address": request.ip_address,
        "user_agent": (request.user_agent or "")[:256] or None,
    }
    if impersonator is not None:
        session["impersonator_id"] = impersonator.user_id
        session["impersonation_reason"] = impersonator.reason
    idle_deadline = policy.idle_deadline(session)
    event = SessionCreated(
        session_id=session_id,
        user_id=user_id,
        reason=created_because or ("rotated" if replaces else "sign-in"),
        replaces_session_id=replaces["session_id"] if replaces else None,
    )
    actor = request.actor(tenant_id, user_id, session_id=session_id)
    if impersonator is not None:
        actor = actor.model_copy(update={"impersonator": impersonator})
    ops = [db.sessions.put_op(session, ttl=idle_deadline), db.event_op(new_envelope(event, actor))]
    if replaces is not None:
        ops += close_ops(db, replaces, replaced_because, actor)
    issued = IssuedSession(
        token=token,
        csrf_token=csrf,
        session_id=session_id,
        user_id=user_id,
        tenant_id=tenant_id,
        expires_at=expires_at,
        idle_expires_at=idle_deadline,
    )
    return issued, ops


def close_ops(
    db: IdentityDb, session: Mapping[str, Any], reason: SessionRevokedReason, actor: TenantContext
) -> list[dict[str, Any]]:
    """Delete the row (only if it is still there) and record why, in the session's workspace."""
    event = SessionRevoked(session_id=session["session_id"], user_id=session["user_id"], reason=reason)
    return [db.sessions.delete_op(session), db.event_op(new_envelope(event, in_tenant(actor, session["tenant_id"])))]


def issue(
    db: IdentityDb,
    *,
    user_id: str,
    tenant_id: str,
    generation: int = 0,
    policy: SessionPolicy | None = None,
    request: RequestInfo | None = None,
    now: float | None = None,
) -> IssuedSession:
    """Open a session on its own (seeding, tests); sign-in opens one inside its transaction."""
    issued, ops = open_ops(
        db,
        user_id=user_id,
        tenant_id=tenant_id,
        generation=generation,
        policy=policy or SessionPolicy(),
        request=request or RequestInfo(),
        now=now_or(now),
    )
    db.transact(ops)
    return issued


def move_ops(
    db: IdentityDb,
    ctx: TenantContext,
    tenant_id: str,
    *,
    current_token: str | None,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float,
    because: SessionCreatedReason,
) -> tuple[IssuedSession, list[dict[str, Any]]]:
    """Move the caller's session into another workspace (switch, delete, accept an invitation).

    The session this request was made with is replaced by a new one in `tenant_id` (not stepped up:
    the move proves nothing about the person), and sign-in will land there next time. For the
    caller's transaction; it fails if the old session ended meanwhile.
    """
    current = db.sessions.get(hash_token(current_token)) if current_token else None
    if current is None or current["session_id"] != ctx.session_id:
        raise Forbidden("Only a signed-in session can move to another workspace.")
    issued, ops = open_ops(
        db,
        user_id=ctx.user_id,
        tenant_id=tenant_id,
        generation=int(current.get("generation", 0)),
        policy=policy,
        request=request,
        now=now,
        replaces=current,
        replaced_because="workspace-switch",
        created_because=because,
        stepped_up=False,
    )
    return issued, [*ops, db.users.update_op(ctx.user_id, {"last_tenant_id": tenant_id})]


def rotate(
    db: IdentityDb,
    session: Mapping[str, Any],
    *,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float | None = None,
) -> IssuedSession:
    """Replace a live session by a new one for the same user and workspace (privilege changes).

    The old token stops working in the same transaction that creates the new one; if the old
    session was revoked meanwhile, nothing is written and the caller gets a 401.
    """
    issued, ops = open_ops(
        db,
        user_id=session["user_id"],
        tenant_id=session["tenant_id"],
        generation=int(session.get("generation", 0)),
        policy=policy,
        request=request,
        now=now_or(now),
        replaces=session,
    )
    try:
        db.transact(ops)
    except ConditionFailed:
        raise Unauthorized("This session has ended; sign in again.") from None
    return issued


def impersonator_of(session: Mapping[str, Any]) -> Actor:
    return Actor(user_id=str(session["impersonator_id"]), reason=str(session.get("impersonation_reason", "")))


# --- the authorizer's view -----------------------------------------------------------------


def authenticate(
    token: str,
    db: IdentityDb,
    policy: SessionPolicy,
    *,
    credential: CredentialKind = "bearer",
    now: float | None = None,
) -> Authenticated | None:
    """The tenant context a token stands for, or None (unknown, ended, user gone or disabled, no longer a member)."""
    now = now_or(now)
    session = db.sessions.get(hash_token(token))
    if session is None or not policy.is_live(session, now):
        return None
    user = db.users.get(session["user_id"])
    if user is None or user.get("disabled") or int(user.get("generation", 0)) != int(session.get("generation", 0)):
        return None
    access = resolve(store_for(db.table_name, session["tenant_id"], db.users.repo.client), session["user_id"])
    if access is None:
        return None
    permissions = access.permissions | platform_permissions(user)
    impersonator = None
    if session.get("impersonator_id"):
        # Acting as someone: their workspace permissions only, never anyone's platform ones; and
        # only while the admin is still a live platform admin (revoking them ends it at once).
        admin = db.users.get(str(session["impersonator_id"]))
        if admin is None or admin.get("disabled") or IMPERSONATE not in platform_permissions(admin):
            return None
        impersonator = impersonator_of(session)
        permissions = access.permissions
    ctx = TenantContext(
        tenant_id=session["tenant_id"],
        user_id=session["user_id"],
        auth_method="session",
        credential=credential,
        roles=access.roles,
        permissions=permissions,
        session_id=session["session_id"],
        stepped_up_at=int(session["stepped_up_at"]) if session.get("stepped_up_at") else None,
        impersonator=impersonator,
    )
    return Authenticated(ctx=ctx, session=session)


def touch(db: IdentityDb, session: Mapping[str, Any], policy: SessionPolicy, *, now: float | None = None) -> None:
    """Slide the idle window, at most once per `touch_seconds`; never fails the request."""
    now = now_or(now)
    if now - int(session["last_seen_at"]) < policy.touch_seconds:
        return
    moved = {**session, "last_seen_at": int(now)}
    try:
        db.sessions.touch(session, now=int(now), ttl=policy.idle_deadline(moved))
    except Exception:  # the request is authorized either way; a missed slide costs a minute at most
        logger.warning("could not slide the session's idle window", exc_info=True)


# --- the user's view -----------------------------------------------------------------------


def live_sessions(db: IdentityDb, user_id: str, policy: SessionPolicy, *, now: float) -> list[dict[str, Any]]:
    user = db.users.get(user_id)
    if user is None:
        return []
    generation = int(user.get("generation", 0))
    return sorted(
        (
            s
            for s in db.sessions.of_user(user_id)
            if int(s.get("generation", 0)) == generation and policy.is_live(s, now)
        ),
        key=lambda s: (int(s["created_at"]), s["session_id"]),
        reverse=True,
    )


def revoke(db: IdentityDb, ctx: TenantContext, session_id: str) -> bool:
    """End one of the caller's own sessions; another user's id is a 404. True if it was the current one."""
    session = db.sessions.find(ctx.user_id, session_id)
    if session is None:
        raise NotFound("No such session.")
    try:
        db.transact(close_ops(db, session, "revoked", ctx))
    except ConditionFailed:
        raise NotFound("No such session.") from None
    return session_id == ctx.session_id


def sign_out(db: IdentityDb, ctx: TenantContext, token: str | None) -> None:
    """End the session this request was made with. Signing out twice is not an error."""
    session = db.sessions.get(hash_token(token)) if token else None
    if session is None or session["session_id"] != ctx.session_id:
        return
    try:
        db.transact(close_ops(db, session, "sign-out", ctx))
    except ConditionFailed:
        logger.info("session already ended")


def revoke_all(db: IdentityDb, ctx: TenantContext, *, now: float | None = None) -> None:
    """Sign out everywhere, this device included."""
    user = db.users.get(ctx.user_id)
    if user is None:
        raise Unauthorized("This session has ended; sign in again.")
    generation = int(user.get("generation", 0))
    ops = [db.users.update_op(ctx.user_id, {"generation": generation + 1}, expected={"generation": generation})]
    current = db.sessions.find(ctx.user_id, ctx.session_id) if ctx.session_id else None
    if current is not None:
        ops += close_ops(db, current, "revoke-all", ctx)
    # A concurrent revocation may get there first: every session is ended either way.
    with contextlib.suppress(ConditionFailed):
        db.transact(ops)
    clean_up(db, ctx.user_id, below_generation=generation + 1, reason="revoke-all", actor=ctx)


def clean_up(
    db: IdentityDb, user_id: str, *, below_generation: int, reason: SessionRevokedReason, actor: TenantContext
) -> int:
    """Delete the rows of sessions a generation bump already ended, each with its event.

    Best effort by design: the bump alone already denies them, and TTL removes any row left here.
    """
    stale = [s for s in db.sessions.of_user(user_id) if int(s.get("generation", 0)) < below_generation]
    deleted = 0
    for start in range(0, len(stale), _CLEANUP_CHUNK):
        chunk = stale[start : start + _CLEANUP_CHUNK]
        try:
            db.transact([op for s in chunk for op in close_ops(db, s, reason, actor)])
            deleted += len(chunk)
        except ConditionFailed:
            # One of them went meanwhile (sign-out, TTL): retry one by one.
            for session in chunk:
                try:
                    db.transact(close_ops(db, session, reason, actor))
                    deleted += 1
                except ConditionFailed:
                    continue
    return deleted


def listing(db: IdentityDb, ctx: TenantContext, policy: SessionPolicy, *, now: float | None = None) -> SessionList:
    """The caller's live sessions, newest first, the current one flagged."""
    now = now_or(now)
    return SessionList(
        items=[
            SessionInfo(
                session_id=s["session_id"],
                tenant_id=s["tenant_id"],
                current=s["session_id"] == ctx.session_id,
                created_at=_at(s["created_at"]),
                last_seen_at=_at(s["last_seen_at"]),
                expires_at=_at(s["expires_at"]),
                idle_expires_at=_at(policy.idle_deadline(s)),
                ip_address=s.get("ip_address"),
                user_agent=s.get("user_agent"),
            )
            for s in live_sessions(db, ctx.user_id, policy, now=now)
        ]
    )


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)
