"""Workspace API keys: long-lived credentials for programs, scoped to a subset of their creator's permissions.

A key is `nf_k_<public id>_<secret>`: 8 hex characters that identify it to people (the `prefix`
shown in listings is `nf_k_<public id>`) and 256 random bits. It is stored only as its SHA-256
(like sessions: that much entropy needs no stretching) and shown once, in the creation answer.

* Keys belong to the workspace, not to the person who created them: they keep working when their
  creator leaves, and anyone with `api_keys:manage` may revoke them. `created_by` says who made one.
* A key's scopes are fixed at creation: catalogued permissions, each held by the creator then (a key
  never exceeds its creator). Creating one needs `api_keys:manage` and a recent step-up, which a
  key never has, so a key cannot mint keys.
* The authorizer turns a key into a `TenantContext` with `auth_method="api_key"`, `api_key_id`, the
  key's scopes as permissions, no roles, and `user_id = "api_key:<key_id>"`, so events and the audit
  log name the key as the actor (its row names the creator).
* A key is refused when its hash is unknown (forged, revoked: revocation deletes the lookup row),
  its row is not active, it has expired, or its workspace is not active.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.api_keys import ApiKeyLookup, ApiKeyStore, is_active
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import step_up
from functions.identity.logic.access import ACTIVE, store_for
from functions.identity.logic.common import digest, now_or
from functions.identity.logic.sessions import API_KEY_PREFIX
from functions.identity.models.api_keys import ApiKeyCreated, ApiKeyInfo, ApiKeyList, CreateApiKey
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Forbidden, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas import identity as events
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext, require

KEY_PREFIX = API_KEY_PREFIX
KEY_SHAPE = re.compile(r"^nf_k_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
ACTOR_PREFIX = "api_key:"
DAY = 86400
# Revoked and expired keys stay listed this long (for audit), then TTL removes their rows.
RETENTION_SECONDS = 90 * DAY
TOUCH_SECONDS = 60


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix (`nf_k_<public id>`)."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def actor_id(key_id: str) -> str:
    """The `user_id` of a request made with the key (and of the events it causes)."""
    return ACTOR_PREFIX + key_id


def store(db: IdentityDb, ctx: TenantContext) -> ApiKeyStore:
    return ApiKeyStore(db.table_name, ctx, db.users.repo.client)


def _at(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def _info(row: Mapping[str, Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=row["key_id"],
        name=row["name"],
        prefix=row["prefix"],
        permissions=sorted(row.get("permissions") or []),
        created_by=row["created_by"],
        created_at=_at(row["created_at"]),
        expires_at=_at(row["expires_at"]),
        last_used_at=_at(row["last_used_at"]) if row.get("last_used_at") else None,
        revoked_at=_at(row["revoked_at"]) if row.get("revoked_at") else None,
        revoked_by=row.get("revoked_by"),
    )


# --- the workspace's view ------------------------------------------------------------------


def create(db: IdentityDb, ctx: TenantContext, body: CreateApiKey, *, now: float | None = None) -> ApiKeyCreated:
    """A new key, shown once. 403 without `api_keys:manage`, a recent step-up, or every scope asked for."""
    require(ctx, "api_keys:manage")
    step_up.require_recent(ctx, now=now)
    exceeding = [p for p in body.permissions if not ctx.can(p)]
    if exceeding:
        raise Forbidden(
            "An API key cannot hold permissions you do not have.", extensions={"missing_permissions": exceeding}
        )
    created_at = int(now_or(now))
    expires_at = created_at + body.expires_in_days * DAY
    key, prefix = new_key()
    row: dict[str, Any] = {
        "key_id": "key_" + uuid.uuid4().hex,
        "name": body.name,
        "prefix": prefix,
        "permissions": list(body.permissions),
        "created_by": ctx.user_id,
        "created_at": created_at,
        "expires_at": expires_at,
        "status": ACTIVE,
        "token_hash": digest(key),
    }
    event = events.ApiKeyCreated(
        key_id=row["key_id"],
        name=body.name,
        prefix=prefix,
        permissions=list(body.permissions),
        created_by=ctx.user_id,
        expires_at=expires_at,
    )
    keys = store(db, ctx)
    db.transact([*keys.create_ops(row, ttl=expires_at + RETENTION_SECONDS), db.event_op(new_envelope(event, ctx))])
    return ApiKeyCreated(**_info(row).model_dump(), key=key)


def listing(db: IdentityDb, ctx: TenantContext) -> ApiKeyList:
    """Every key of the workspace (revoked and expired ones too, until their retention ends), newest first."""
    require(ctx, "api_keys:read")
    rows = sorted(store(db, ctx).all(), key=lambda r: (int(r["created_at"]), r["key_id"]), reverse=True)
    return ApiKeyList(items=[_info(r) for r in rows])


def get(db: IdentityDb, ctx: TenantContext, key_id: str) -> ApiKeyInfo:
    require(ctx, "api_keys:read")
    row = store(db, ctx).get(key_id)
    if row is None:
        raise NotFound("No such API key.")
    return _info(row)


def revoke(db: IdentityDb, ctx: TenantContext, key_id: str, *, now: float | None = None) -> None:
    """Revoke a key: it stops working at once. Revoking a revoked key does nothing (204 again)."""
    require(ctx, "api_keys:manage")
    keys = store(db, ctx)
    row = keys.get(key_id)
    if row is None:
        raise NotFound("No such API key.")
    if not is_active(row):
        return
    revoked_at = int(now_or(now))
    event = events.ApiKeyRevoked(key_id=key_id, name=row["name"], prefix=row["prefix"], revoked_by=ctx.user_id)
    ops = keys.revoke_ops(row, revoked_at=revoked_at, revoked_by=ctx.user_id, ttl=revoked_at + RETENTION_SECONDS)
    try:
        db.transact([*ops, db.event_op(new_envelope(event, ctx))])
    except ConditionFailed:
        # A concurrent revocation got there first: the key is revoked either way.
        logger.info("API key already revoked")


# --- the authorizer's view -----------------------------------------------------------------


def authenticate(
    token: str, db: IdentityDb, *, now: float | None = None, touch_seconds: int = TOUCH_SECONDS
) -> TenantContext | None:
    """The context a key stands for, or None (malformed, unknown, revoked, expired, workspace gone).

    Records the use (`last_used_at`) at most once per `touch_seconds`; that write never fails the request.
    """
    now = now_or(now)
    shape = KEY_SHAPE.match(token)
    if shape is None:
        return None
    token_hash = digest(token)
    found = ApiKeyLookup(db.table_name, db.users.repo.client).get(token_hash)
    if found is None:
        return None
    workspace = store_for(db.table_name, str(found["tenant_id"]), db.users.repo.client)
    keys = ApiKeyStore(db.table_name, workspace.repo.ctx, workspace.repo.client)
    row = keys.get(str(found["key_id"]))
    if (
        row is None
        or not is_active(row)
        or not hmac.compare_digest(str(row.get("token_hash", "")), token_hash)
        or row.get("prefix") != KEY_PREFIX + shape.group(1)
        or now >= int(row["expires_at"])
    ):
        return None
    workspace_row = workspace.get(consistent=True)
    if workspace_row is None or workspace_row.get("status", ACTIVE) != ACTIVE:
        return None
    _touch(keys, row, now=now, every=touch_seconds)
    return TenantContext(
        tenant_id=workspace.tenant_id,
        user_id=actor_id(row["key_id"]),
        auth_method="api_key",
        roles=(),
        permissions=frozenset(row.get("permissions") or ()),
        api_key_id=row["key_id"],
    )


def _touch(keys: ApiKeyStore, row: Mapping[str, Any], *, now: float, every: int) -> None:
    seen = row.get("last_used_at")
    if seen is not None and now - int(seen) < every:
        return
    try:
        keys.touch(row, now=int(now))
    except Exception:  # the request is authorized either way; a missed update costs a minute of accuracy
        logger.warning("could not record the API key's use", exc_info=True)
