"""Members of a workspace: list them, change their roles, remove them, leave.

Rules every change keeps:

* **No escalation**: a caller hands out, and takes away, only roles whose permissions they hold
  themselves (`access.can_grant`); so only an owner changes an owner.
* **The last owner stays**: the workspace row counts its owners; demoting or removing an owner
  is a conditional write on that count (and the row's version), so two concurrent demotions
  cannot leave a workspace without an owner.
* **Seats** are counted on the same row and every change emits `workspace.seats_changed`, the
  billing signal for per-seat plans.

A change applies from the member's next request: the authorizer resolves roles every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.identity.dal.store import IdentityDb, WorkspaceStore
from functions.identity.logic.access import can_grant
from functions.identity.models.roles import BUILT_IN_ROLES
from functions.identity.models.workspaces import Member, MemberList, MemberRoles
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import (
    MemberRemoved,
    MemberRoleChanged,
    WorkspaceSeatsChanged,
)
from ninefold_core.tenant import TenantContext, require

OWNER = "owner"


def _member(item: Mapping[str, Any], ctx: TenantContext) -> Member:
    return Member(
        user_id=item["user_id"],
        email=item.get("email"),
        name=item.get("name"),
        roles=list(item.get("roles") or []),
        teams=dict(item.get("teams") or {}),
        joined_at=datetime.fromisoformat(str(item["joined_at"])),
        you=item["user_id"] == ctx.user_id,
    )


def _workspace(store: WorkspaceStore) -> dict[str, Any]:
    workspace = store.get(consistent=True)
    if workspace is None:
        raise NotFound("This workspace does not exist.")
    return workspace


def _found(store: WorkspaceStore, user_id: str) -> dict[str, Any]:
    member = store.member(user_id)
    if member is None:
        raise NotFound("No such member.")
    return member


def listing(ctx: TenantContext, store: WorkspaceStore) -> MemberList:
    members = sorted(store.members(), key=lambda m: (datetime.fromisoformat(str(m["joined_at"])), m["user_id"]))
    return MemberList(items=[_member(m, ctx) for m in members], seats=int(_workspace(store).get("seats", len(members))))


def get(ctx: TenantContext, store: WorkspaceStore, user_id: str) -> Member:
    return _member(_found(store, user_id), ctx)


def _refuse_escalation(ctx: TenantContext, store: WorkspaceStore, roles: list[str]) -> None:
    refused = can_grant(ctx, store, roles)
    unknown = [r for r in refused if r not in BUILT_IN_ROLES and store.role(r) is None]
    if unknown:
        message = f"Unknown role(s): {', '.join(unknown)}."
        raise InvalidInput(message, extensions={"errors": [{"field": "roles", "message": message, "type": "unknown"}]})
    if refused:
        raise Forbidden(
            "You can only grant or take away roles whose permissions you hold yourself.",
            extensions={"refused_roles": refused},
        )


def change_roles(ctx: TenantContext, store: WorkspaceStore, user_id: str, body: MemberRoles) -> Member:
    require(ctx, "members:update")
    member = _found(store, user_id)
    old = list(member.get("roles") or [])
    new = list(body.roles)
    if set(old) == set(new):
        return _member(member, ctx)
    # Both what is given and what is taken away must be within the caller's own reach.
    _refuse_escalation(ctx, store, sorted(set(old) ^ set(new)))
    workspace = _workspace(store)
    owners = int(workspace.get("owners", 1))
    delta = (OWNER in new) - (OWNER in old)
    if owners + delta < 1:
        raise Conflict("A workspace needs an owner: make someone else an owner first.")
    ops = [
        store.update_member_op(user_id, {"roles": new}, int(member["version"])),
        outbox_op(store.repo, new_envelope(MemberRoleChanged(user_id=user_id, old_roles=old, new_roles=new), ctx)),
    ]
    if delta:
        ops.append(store.update_op({"owners": owners + delta}, int(workspace["version"]), owners=owners))
    try:
        store.repo.transact(ops)
    except ConditionFailed:
        raise Conflict("The member or the workspace changed meanwhile; reload and try again.") from None
    return _member({**member, "roles": new}, ctx)


def remove(ctx: TenantContext, store: WorkspaceStore, user_id: str) -> None:
    """Remove a member (members:remove), or leave (anyone, for themselves)."""
    leaving = user_id == ctx.user_id
    if not leaving:
        require(ctx, "members:remove")
    member = _found(store, user_id)
    roles = list(member.get("roles") or [])
    if not leaving:
        _refuse_escalation(ctx, store, roles)
    workspace = _workspace(store)
    owners = int(workspace.get("owners", 1))
    seats = int(workspace.get("seats", 1))
    if OWNER in roles and owners <= 1:
        raise Conflict(
            "The last owner can neither leave nor be removed: make someone else an owner first"
            + (", or delete the workspace." if leaving else ".")
        )
    changes: dict[str, Any] = {"seats": seats - 1}
    expected: dict[str, Any] = {"seats": seats}
    if OWNER in roles:
        changes["owners"] = owners - 1
        expected["owners"] = owners
    ops = [
        *store.remove_member_ops(member),
        store.update_op(changes, int(workspace["version"]), **expected),
        outbox_op(
            store.repo,
            new_envelope(MemberRemoved(user_id=user_id, reason="left" if leaving else "removed"), ctx),
        ),
        outbox_op(
            store.repo,
            new_envelope(WorkspaceSeatsChanged(workspace_id=ctx.tenant_id, seats=seats - 1, previous=seats), ctx),
        ),
    ]
    # Team memberships of the person go with them.
    for team_id in member.get("teams") or {}:
        ops.append(store.repo.delete_op(("TEAM", team_id), f"member#{user_id}"))
    try:
        store.repo.transact(ops)
    except ConditionFailed:
        raise Conflict("The member or the workspace changed meanwhile; reload and try again.") from None


def add_ops(
    db: IdentityDb,
    ctx: TenantContext,
    store: WorkspaceStore,
    member: Mapping[str, Any],
    *,
    workspace: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Operations that add `member` and count the seat (for the caller's transaction)."""
    seats = int(workspace.get("seats", 1))
    owners = int(workspace.get("owners", 1))
    changes: dict[str, Any] = {"seats": seats + 1}
    if OWNER in member["roles"]:
        changes["owners"] = owners + 1
    return [
        *store.add_member_ops(member),
        store.update_op(changes, int(workspace["version"]), seats=seats),
        outbox_op(
            store.repo,
            new_envelope(WorkspaceSeatsChanged(workspace_id=store.tenant_id, seats=seats + 1, previous=seats), ctx),
        ),
    ]
