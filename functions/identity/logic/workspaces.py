"""Workspaces (tenants): create, read, rename, list the caller's, switch, delete softly, restore."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.store import IdentityDb, WorkspaceStore, workspaces_of
from functions.identity.logic import purge
from functions.identity.logic.access import store_for
from functions.identity.logic.common import RequestInfo, in_tenant, now_or
from functions.identity.logic.sessions import IssuedSession, SessionPolicy, hash_token, move_ops, open_ops
from functions.identity.models.api import RenameWorkspace, Workspace
from functions.identity.models.workspaces import CreateWorkspace, WorkspaceDeletion, WorkspaceList, WorkspaceSummary
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, Forbidden, NotFound, Unauthorized
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import (
    WorkspaceCreated,
    WorkspaceDeleted,
    WorkspaceRenamed,
    WorkspaceRestored,
)
from ninefold_core.tenant import TenantContext

DEFAULT_NAME = "My workspace"


def new_tenant_id() -> str:
    # Opaque and random: a tenant id reveals nothing (no sequence, no name).
    return "ws_" + secrets.token_hex(10)


def _workspace(item: dict[str, Any]) -> Workspace:
    return Workspace(id=item["id"], name=item["name"], created_at=item["created_at"], version=item["version"])


def get(ctx: TenantContext, store: WorkspaceStore) -> Workspace:
    item = store.get()
    if item is None:
        raise NotFound("This workspace does not exist.")
    return _workspace(item)


def rename(ctx: TenantContext, body: RenameWorkspace, store: WorkspaceStore) -> Workspace:
    current = get(ctx, store)
    if current.name == body.name:
        return current
    envelope = new_envelope(
        WorkspaceRenamed(workspace_id=ctx.tenant_id, old_name=current.name, new_name=body.name), ctx
    )
    # The rename and its event commit together, or neither does.
    store.repo.transact([store.rename_op(body.name, current.version), outbox_op(store.repo, envelope)])
    return current.model_copy(update={"name": body.name, "version": current.version + 1})


def create_ops(
    ctx: TenantContext,
    name: str,
    owner_id: str,
    store: WorkspaceStore,
    *,
    now: datetime | None = None,
    owner: Mapping[str, Any] | None = None,
) -> tuple[Workspace, list[dict[str, Any]]]:
    """The workspace, its owner's membership and `workspace.created`, for the caller's transaction."""
    at = (now or datetime.now(UTC)).isoformat()
    # `seats` and `owners` are counted on the row so that conditional writes keep them right.
    item = {"id": ctx.tenant_id, "name": name, "created_at": at, "version": 1, "status": "active"}
    item |= {"seats": 1, "owners": 1}
    member = member_row(owner_id, ["owner"], joined_at=at, user=owner)
    event = new_envelope(WorkspaceCreated(workspace_id=ctx.tenant_id, name=name, owner_id=owner_id), ctx)
    ops = [store.create_op(item), *store.add_member_ops(member), outbox_op(store.repo, event)]
    return _workspace(item), ops


def member_row(
    user_id: str, roles: list[str], *, joined_at: str, user: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A membership row; the person's address and name are copied for listings (one read, not N)."""
    user = user or {}
    return {
        "user_id": user_id,
        "roles": roles,
        "teams": {},
        "joined_at": joined_at,
        "email": user.get("email"),
        "name": user.get("name"),
        "version": 1,
    }


def create(ctx: TenantContext, name: str, owner_id: str, store: WorkspaceStore) -> Workspace:
    workspace, ops = create_ops(ctx, name, owner_id, store)
    store.repo.transact(ops)
    return workspace


# --- the caller's workspaces ---------------------------------------------------------------

MAX_OWNED_WORKSPACES = 20


def _summary(store: WorkspaceStore, user_id: str, current: str) -> WorkspaceSummary | None:
    workspace = store.get(consistent=True)
    member = store.member(user_id)
    if workspace is None or member is None:
        return None
    status = workspace.get("status", "active")
    purge_at = workspace.get("purge_at") if status == "deleted" else None
    return WorkspaceSummary(
        workspace_id=workspace["id"],
        name=workspace["name"],
        roles=list(member.get("roles") or []),
        status=status,
        current=workspace["id"] == current,
        purge_at=datetime.fromtimestamp(int(purge_at), UTC) if purge_at else None,
    )


def list_mine(db: IdentityDb, ctx: TenantContext) -> WorkspaceList:
    """Every workspace the caller belongs to (deleted ones too, while they can be restored)."""
    items = []
    for tenant_id in workspaces_of(db.table_name, ctx.user_id, db.users.repo.client):
        summary = _summary(store_for(db.table_name, tenant_id, db.users.repo.client), ctx.user_id, ctx.tenant_id)
        if summary is not None:
            items.append(summary)
    items.sort(key=lambda w: (w.status != "active", w.name.casefold(), w.workspace_id))
    return WorkspaceList(items=items)


def create_new(db: IdentityDb, ctx: TenantContext, body: CreateWorkspace) -> Workspace:
    """A new workspace owned by the caller; the caller's session stays where it is (switch to use it)."""
    owned = sum(1 for w in list_mine(db, ctx).items if "owner" in w.roles)
    if owned >= MAX_OWNED_WORKSPACES:
        raise Conflict(f"You own {owned} workspaces, the most one person can own. Delete one first.")
    tenant_id = new_tenant_id()
    actor = in_tenant(ctx, tenant_id)
    user = db.users.get(ctx.user_id) or {}
    workspace, ops = create_ops(actor, body.name, ctx.user_id, db.workspace(actor), owner=user)
    db.transact(ops)
    return workspace


def _active_member_store(db: IdentityDb, tenant_id: str, user_id: str) -> WorkspaceStore:
    store = store_for(db.table_name, tenant_id, db.users.repo.client)
    workspace = store.get(consistent=True)
    if workspace is None or workspace.get("status", "active") != "active" or store.member(user_id) is None:
        # Another tenant's id and a missing one answer the same.
        raise NotFound("No such workspace.")
    return store


def switch(
    db: IdentityDb,
    ctx: TenantContext,
    tenant_id: str,
    *,
    current_token: str | None,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float | None = None,
) -> IssuedSession:
    """Move the caller's session to another of their workspaces: a new session there, the old one ends."""
    _active_member_store(db, tenant_id, ctx.user_id)
    issued, ops = move_ops(
        db,
        ctx,
        tenant_id,
        current_token=current_token,
        policy=policy,
        request=request,
        now=now_or(now),
        because="workspace-switch",
    )
    try:
        db.transact(ops)
    except ConditionFailed:
        raise Unauthorized("This session has ended; sign in again.") from None
    return issued


def delete(
    db: IdentityDb,
    ctx: TenantContext,
    *,
    current_token: str | None,
    policy: SessionPolicy,
    request: RequestInfo,
    grace_seconds: int,
    now: float | None = None,
) -> WorkspaceDeletion:
    """Soft-delete the current workspace and move the caller's session to another of theirs.

    From this moment the workspace grants nothing to anyone (the authorizer checks its status);
    an owner can restore it until `purge_at`. The last workspace a person belongs to cannot be
    deleted: they would have nowhere to go.
    """
    now = now_or(now)
    store = db.workspace(ctx)
    workspace = store.get(consistent=True)
    if workspace is None or workspace.get("status", "active") != "active":
        raise NotFound("No such workspace.")
    others = [w for w in list_mine(db, ctx).items if w.status == "active" and w.workspace_id != ctx.tenant_id]
    if not others:
        raise Conflict("This is your only workspace. Create or join another one before deleting it.")
    target = others[0].workspace_id
    purge_at = int(now) + grace_seconds
    issued, session_ops = move_ops(
        db,
        ctx,
        target,
        current_token=current_token,
        policy=policy,
        request=request,
        now=now,
        because="workspace-switch",
    )
    ops = [
        store.update_op(
            {"status": "deleted", "deleted_at": int(now), "deleted_by": ctx.user_id, "purge_at": purge_at},
            int(workspace["version"]),
        ),
        outbox_op(store.repo, new_envelope(WorkspaceDeleted(workspace_id=ctx.tenant_id, purge_at=purge_at), ctx)),
        purge.schedule_op(db, ctx.tenant_id, purge_at),
        *session_ops,
    ]
    try:
        db.transact(ops)
    except ConditionFailed:
        raise Conflict("The workspace changed meanwhile; try again.") from None
    return WorkspaceDeletion(
        workspace_id=ctx.tenant_id,
        purge_at=datetime.fromtimestamp(purge_at, UTC),
        switched_to=target,
        token=issued.token,
        csrf_token=issued.csrf_token,
        session_id=issued.session_id,
    )


def restore(db: IdentityDb, ctx: TenantContext, tenant_id: str, *, now: float | None = None) -> Workspace:
    """An owner brings a deleted workspace back within its grace window."""
    now = now_or(now)
    store = store_for(db.table_name, tenant_id, db.users.repo.client)
    workspace = store.get(consistent=True)
    member = store.member(ctx.user_id)
    if workspace is None or member is None:
        raise NotFound("No such workspace.")
    if "owner" not in (member.get("roles") or []):
        raise Forbidden("Only an owner can restore a workspace.")
    if workspace.get("status", "active") == "active":
        return _workspace(workspace)
    if int(workspace.get("purge_at") or 0) <= now:
        raise NotFound("No such workspace.")
    actor = in_tenant(ctx, tenant_id)
    db.transact(
        [
            store.update_op({"status": "active", "restored_at": int(now)}, int(workspace["version"])),
            outbox_op(store.repo, new_envelope(WorkspaceRestored(workspace_id=tenant_id), actor)),
            purge.unschedule_op(db, tenant_id, int(workspace["purge_at"])),
        ]
    )
    return _workspace({**workspace, "version": int(workspace["version"]) + 1})


def landing(db: IdentityDb, user: Mapping[str, Any]) -> str:
    """Where a sign-in lands: the workspace used last, else the home one, else any active one."""
    candidates = [t for t in (user.get("last_tenant_id"), user.get("home_tenant_id")) if t]
    for tenant_id in dict.fromkeys(candidates):
        store = store_for(db.table_name, str(tenant_id), db.users.repo.client)
        workspace = store.get(consistent=True)
        if workspace and workspace.get("status", "active") == "active" and store.member(user["user_id"]):
            return str(tenant_id)
    for tenant_id in workspaces_of(db.table_name, user["user_id"], db.users.repo.client):
        store = store_for(db.table_name, tenant_id, db.users.repo.client)
        workspace = store.get(consistent=True)
        if workspace and workspace.get("status", "active") == "active":
            return tenant_id
    return str(user["home_tenant_id"])


def sign_in_ops(
    db: IdentityDb,
    user: Mapping[str, Any],
    *,
    generation: int,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float,
    previous_token: str | None,
    changes: Mapping[str, Any] | None = None,
    expected: Mapping[str, Any] | None = None,
) -> tuple[IssuedSession, list[dict[str, Any]]]:
    """A signed-in user's new session (in the workspace they land in; the session presented with
    the request, if any, rotated out) and the user row's update, for the caller's transaction.

    The generation guard on the user row: a password change or "sign out everywhere" racing this
    sign-in wins, and the transaction fails.
    """
    previous = db.sessions.get(hash_token(previous_token)) if previous_token else None
    issued, ops = open_ops(
        db,
        user_id=user["user_id"],
        tenant_id=landing(db, user),
        generation=generation,
        policy=policy,
        request=request,
        now=now,
        replaces=previous,
    )
    ops.append(
        db.users.update_op(
            user["user_id"],
            {"last_sign_in_at": int(now), **(changes or {})},
            expected={"generation": generation, **(expected or {})},
        )
    )
    return issued, ops
