"""Custom roles: a workspace's own named sets of catalogued permissions.

* Built-in roles (owner, admin, member, billing) are listed with the custom ones but never change.
* No one makes a role stronger than themselves: creating a role, changing it or deleting it
  needs every permission the role carries (before and after the change).
* A role's name is unique in its workspace, ignoring case (a claim row; see `dal.rbac`).
* A role someone holds (a member directly, a team, a pending invitation) cannot be deleted (409
  with the counts); take it away first. Changing a role's permissions changes its holders'
  access at their next request (the authorizer resolves roles on every request).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.rbac import RbacWrites, name_key
from functions.identity.dal.store import ROLES_PK, WorkspaceStore
from functions.identity.models.rbac import (
    CreateRole,
    PermissionCatalogue,
    PermissionInfo,
    Role,
    RoleList,
    UpdateRole,
    built_in_roles,
)
from functions.identity.models.roles import BUILT_IN_ROLES, PERMISSIONS
from ninefold_core.errors import Conflict, Forbidden, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import RoleCreated, RoleDeleted, RoleUpdated
from ninefold_core.tenant import TenantContext

PENDING = "pending"


def new_role_id() -> str:
    return "role_" + secrets.token_hex(10)


def catalogue() -> PermissionCatalogue:
    return PermissionCatalogue(
        permissions=[PermissionInfo(permission=p, description=d) for p, d in PERMISSIONS.items()],
        built_in_roles=built_in_roles(),
    )


def _role(item: Mapping[str, Any]) -> Role:
    return Role(
        role_id=item["role_id"],
        name=item["name"],
        description=item.get("description"),
        permissions=list(item.get("permissions") or []),
        built_in=False,
        created_at=item.get("created_at"),
        updated_at=item.get("updated_at"),
        version=item.get("version"),
    )


def listing(store: WorkspaceStore) -> RoleList:
    built_in = [
        Role(role_id=info.role_id, name=info.name, permissions=info.permissions, built_in=True)
        for info in built_in_roles()
    ]
    custom = sorted((_role(r) for r in store.roles()), key=lambda r: r.name.casefold())
    return RoleList(items=[*built_in, *custom])


def _load(store: WorkspaceStore, role_id: str) -> dict[str, Any]:
    item = store.role(role_id)
    if item is None:
        raise NotFound("This role does not exist.")
    return item


def get(store: WorkspaceStore, role_id: str) -> Role:
    return _role(_load(store, role_id))


def not_held(ctx: TenantContext, permissions: Iterable[str]) -> list[str]:
    """The permissions among `permissions` the caller does not hold."""
    return [p for p in permissions if not ctx.can(p)]


def _check_held(ctx: TenantContext, permissions: Iterable[str]) -> None:
    missing = not_held(ctx, permissions)
    if missing:
        raise Forbidden(
            "A role cannot carry permissions you do not hold yourself.",
            extensions={"missing_permissions": missing},
        )


def _check_name_free(store: WorkspaceStore, name: str, role_id: str | None = None) -> None:
    claim = store.repo.get(ROLES_PK, name_key(name), consistent=True)
    if claim is not None and claim.get("role_id") != role_id:
        raise Conflict(f"A role named {name!r} already exists in this workspace.")
    if name_key(name).removeprefix("name#") in BUILT_IN_ROLES:
        raise Conflict(f"{name!r} is the name of a built-in role.")


def create(ctx: TenantContext, store: WorkspaceStore, body: CreateRole, *, now: datetime | None = None) -> Role:
    _check_held(ctx, body.permissions)
    _check_name_free(store, body.name)
    at = (now or datetime.now(UTC)).isoformat()
    item = {
        "role_id": new_role_id(),
        "name": body.name,
        "description": body.description,
        "permissions": body.permissions,
        "created_at": at,
        "updated_at": at,
        "created_by": ctx.user_id,
        "version": 1,
    }
    event = new_envelope(RoleCreated(role_id=item["role_id"], name=body.name, permissions=body.permissions), ctx)
    store.repo.transact([*RbacWrites(store).create_role_ops(item), outbox_op(store.repo, event)])
    return _role(item)


def update(
    ctx: TenantContext, store: WorkspaceStore, role_id: str, body: UpdateRole, *, now: datetime | None = None
) -> Role:
    current = _load(store, role_id)
    old_permissions = list(current.get("permissions") or [])
    # Both the role as it is and as it will be: no weakening or strengthening a role beyond you.
    _check_held(ctx, [*old_permissions, *(body.permissions or [])])
    changes: dict[str, Any] = {}
    if body.name is not None and body.name != current["name"]:
        _check_name_free(store, body.name, role_id)
        changes["name"] = body.name
    if "description" in body.model_fields_set and body.description != current.get("description"):
        changes["description"] = body.description
    if body.permissions is not None and body.permissions != old_permissions:
        changes["permissions"] = body.permissions
    if not changes:
        return _role(current)
    changes["updated_at"] = (now or datetime.now(UTC)).isoformat()
    updated = {**current, **changes, "version": current["version"] + 1}
    event = new_envelope(
        RoleUpdated(
            role_id=role_id, name=updated["name"], permissions=updated["permissions"], old_permissions=old_permissions
        ),
        ctx,
    )
    store.repo.transact([*RbacWrites(store).update_role_ops(current, changes), outbox_op(store.repo, event)])
    return _role(updated)


def holders(store: WorkspaceStore, role_id: str, *, now: float | None = None) -> dict[str, int]:
    """Who holds `role_id`: members directly, teams, and pending (unexpired) invitations."""
    at = time.time() if now is None else now

    def pending(invitation: Mapping[str, Any]) -> bool:
        return invitation.get("status", PENDING) == PENDING and int(invitation.get("expires_at") or 0) > at

    return {
        "members": sum(1 for m in store.members() if role_id in (m.get("roles") or [])),
        "teams": sum(1 for t in store.teams() if role_id in (t.get("roles") or [])),
        "invitations": sum(1 for i in store.invitations() if pending(i) and role_id in (i.get("roles") or [])),
    }


def delete(ctx: TenantContext, store: WorkspaceStore, role_id: str) -> None:
    current = _load(store, role_id)
    _check_held(ctx, current.get("permissions") or [])
    held = holders(store, role_id)
    if any(held.values()):
        raise Conflict(
            "This role is still held; take it away from its members, teams and pending invitations first.",
            extensions={"held_by": held},
        )
    event = new_envelope(RoleDeleted(role_id=role_id, name=current["name"]), ctx)
    store.repo.transact([*RbacWrites(store).delete_role_ops(current), outbox_op(store.repo, event)])
