"""Platform administration: impersonating a user, and disabling, enabling and finding users.

Only platform admins get here: the permissions are `platform:impersonate` and `platform:users`,
which only a platform role on the user grants (`models.roles.PLATFORM_ROLES`), never a
workspace role, not even the owner's "*".

Impersonation opens an ordinary session for the target user, marked with the admin
(`impersonator_id`, `impersonation_reason` on the session row) and time-boxed (1 to 60 minutes,
absolute). While it lasts, the authorizer gives the session:

* the target's workspace permissions only, never platform permissions (of either person);
* `TenantContext.impersonator`, so every event's envelope records the whole actor chain
  (`correlation.actor_chain` = admin, user; `correlation.impersonator_id`) and the audit log
  shows who really acted;
* no step-up, so sensitive actions (password, 2FA, API keys, deleting a workspace) are refused.

The admin must stay a live platform admin: revoking their role or disabling them ends their
impersonations at the next request. Admins cannot impersonate themselves or anyone holding a
platform role (no borrowing another admin's powers or hiding behind them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.store import IdentityDb, workspaces_of
from functions.identity.logic import accounts, sessions
from functions.identity.logic.access import resolve, store_for
from functions.identity.logic.common import RequestInfo, in_tenant, now_or
from functions.identity.logic.sessions import IssuedSession, SessionPolicy
from functions.identity.models.admin import AdminUser, StartImpersonation
from functions.identity.models.api import normalise_email
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import ImpersonationEnded, ImpersonationStarted
from ninefold_core.observability import logger
from ninefold_core.tenant import Actor, TenantContext, require

IMPERSONATE = sessions.IMPERSONATE
MANAGE_USERS = "platform:users"


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, extensions={"errors": [{"field": field, "message": message, "type": "value_error"}]})


# --- impersonation -------------------------------------------------------------------------


def start(
    db: IdentityDb,
    ctx: TenantContext,
    body: StartImpersonation,
    *,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float | None = None,
) -> tuple[IssuedSession, dict[str, Any]]:
    """Open a time-boxed session as `body.user_id`, for the calling platform admin. Returns it and the user."""
    require(ctx, IMPERSONATE)
    now = now_or(now)
    if body.user_id == ctx.user_id:
        raise Forbidden("You cannot impersonate yourself.")
    target = db.users.get(body.user_id)
    if target is None:
        raise NotFound("No such user.")
    if target.get("platform_roles"):
        raise Forbidden("Users with a platform role cannot be impersonated.")
    if target.get("disabled"):
        raise Conflict("This user is disabled; enable them first.")
    tenant_id = body.tenant_id or str(target["home_tenant_id"])
    if resolve(store_for(db.table_name, tenant_id, db.users.repo.client), body.user_id) is None:
        raise _field_error("tenant_id", "The user is not a member of this workspace.")

    impersonator = Actor(user_id=ctx.user_id, reason=body.reason)
    expires_at = int(now) + body.minutes * 60
    issued, ops = sessions.open_ops(
        db,
        user_id=body.user_id,
        tenant_id=tenant_id,
        generation=int(target.get("generation", 0)),
        policy=policy,
        request=request,
        now=now,
        stepped_up=False,
        impersonator=impersonator,
        expires_at=expires_at,
    )
    event = ImpersonationStarted(
        impersonator_id=ctx.user_id,
        user_id=body.user_id,
        tenant_id=tenant_id,
        session_id=issued.session_id,
        reason=body.reason,
        expires_at=issued.expires_at,
    )
    # The admin acts here: the event belongs to the workspace they enter, so its owners see it.
    ops.append(db.event_op(new_envelope(event, in_tenant(ctx, tenant_id))))
    db.transact(ops)
    logger.info(
        "impersonation started",
        extra={"impersonator_id": ctx.user_id, "user_id": body.user_id, "tenant_id": tenant_id},
    )
    return issued, target


def end(db: IdentityDb, ctx: TenantContext, token: str | None) -> None:
    """End the impersonation this request was made with (its session row goes)."""
    if ctx.impersonator is None:
        raise Forbidden("This session is not an impersonation.")
    session = db.sessions.get(sessions.hash_token(token)) if token else None
    if session is None or session["session_id"] != ctx.session_id:
        return  # already ended
    event = ImpersonationEnded(
        impersonator_id=ctx.impersonator.user_id, user_id=ctx.user_id, session_id=session["session_id"]
    )
    try:
        db.transact([*sessions.close_ops(db, session, "sign-out", ctx), db.event_op(new_envelope(event, ctx))])
    except ConditionFailed:
        logger.info("impersonation already ended")


# --- users ---------------------------------------------------------------------------------


def view(db: IdentityDb, user: Mapping[str, Any]) -> AdminUser:
    disabled_at = user.get("disabled_at")
    return AdminUser(
        user_id=str(user["user_id"]),
        email=str(user["email"]),
        name=user.get("name"),
        disabled=bool(user.get("disabled")),
        disabled_at=datetime.fromtimestamp(int(disabled_at), UTC) if disabled_at and user.get("disabled") else None,
        platform_roles=sorted(str(r) for r in user.get("platform_roles") or ()),
        workspaces=sorted(workspaces_of(db.table_name, str(user["user_id"]), db.users.repo.client)),
        home_tenant_id=str(user["home_tenant_id"]),
    )


def find_user(db: IdentityDb, ctx: TenantContext, email: str | None) -> AdminUser:
    require(ctx, MANAGE_USERS)
    try:
        address = normalise_email(email or "")
    except ValueError:
        raise _field_error("email", "Give a valid email address.") from None
    user = db.users.by_email(address)
    if user is None:
        raise NotFound("No user has this address.")
    return view(db, user)


def _target(db: IdentityDb, user_id: str) -> dict[str, Any]:
    user = db.users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def disable(db: IdentityDb, ctx: TenantContext, user_id: str, *, reason: str) -> AdminUser:
    """Disable a user (every session ends). Disabling a disabled user changes nothing."""
    require(ctx, MANAGE_USERS)
    if user_id == ctx.user_id:
        raise Forbidden("You cannot disable yourself.")
    user = _target(db, user_id)
    if not user.get("disabled"):
        accounts.disable_user(db, user_id, reason=reason, actor=ctx)
        user = _target(db, user_id)
    return view(db, user)


def enable(db: IdentityDb, ctx: TenantContext, user_id: str, *, reason: str) -> AdminUser:
    """Let a disabled user sign in again. Enabling an enabled user changes nothing."""
    require(ctx, MANAGE_USERS)
    user = _target(db, user_id)
    if user.get("disabled"):
        accounts.enable_user(db, user_id, reason=reason, actor=ctx)
        user = _target(db, user_id)
    return view(db, user)
