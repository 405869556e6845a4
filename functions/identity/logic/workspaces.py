"""Workspaces (tenants): read and rename; creation is used by sign-up and seeding."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.store import WorkspaceStore
from functions.identity.models.api import RenameWorkspace, Workspace
from ninefold_core.errors import NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import WorkspaceCreated, WorkspaceRenamed
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
    ctx: TenantContext, name: str, owner_id: str, store: WorkspaceStore, *, now: datetime | None = None
) -> tuple[Workspace, list[dict[str, Any]]]:
    """The workspace, its owner's membership and `workspace.created`, for the caller's transaction."""
    at = (now or datetime.now(UTC)).isoformat()
    # `seats` and `owners` are counted on the row so that conditional writes keep them right.
    item = {"id": ctx.tenant_id, "name": name, "created_at": at, "version": 1, "status": "active"}
    item |= {"seats": 1, "owners": 1}
    member = {"user_id": owner_id, "roles": ["owner"], "teams": {}, "joined_at": at, "version": 1}
    event = new_envelope(WorkspaceCreated(workspace_id=ctx.tenant_id, name=name, owner_id=owner_id), ctx)
    ops = [store.create_op(item), *store.add_member_ops(member), outbox_op(store.repo, event)]
    return _workspace(item), ops


def create(ctx: TenantContext, name: str, owner_id: str, store: WorkspaceStore) -> Workspace:
    workspace, ops = create_ops(ctx, name, owner_id, store)
    store.repo.transact(ops)
    return workspace
