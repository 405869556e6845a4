"""What a member may do in a workspace: their roles, their teams' roles, and the permissions of both.

The authorizer calls `resolve` for every session and API key; the result becomes the
`TenantContext`'s roles and permissions, which every route in every system checks with
`ninefold_core.tenant.require`.

* A member holds roles directly (`member.roles`) and through teams: each team grants its
  `roles` to every member of the team (`member.teams` maps team id → team role).
* A role is built in (owner, admin, member, billing) or a custom role of the workspace
  (`role_…` id), made of permissions from the catalogue (`models.roles.PERMISSIONS`).
* A workspace that is deleted (in its grace window) grants nothing to anyone.

Cost: two consistent reads (workspace, member), plus one query for teams when the member is in
a team and one for custom roles when any role is custom.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import WorkspaceStore
from functions.identity.models.roles import BUILT_IN_ROLES, permissions_for
from ninefold_core.tenant import TenantContext

ACTIVE = "active"


@dataclass(frozen=True)
class Access:
    roles: tuple[str, ...]
    permissions: frozenset[str]
    member: Mapping[str, Any]
    workspace: Mapping[str, Any]


def store_for(table_name: str, tenant_id: str, client: Any | None = None) -> WorkspaceStore:
    """A workspace's store before anyone is authenticated in it (the authorizer's probe)."""
    probe = TenantContext(tenant_id=tenant_id, user_id="system:identity", auth_method="system")
    return WorkspaceStore(table_name, probe, client)


def resolve(store: WorkspaceStore, user_id: str) -> Access | None:
    """`user_id`'s access to the store's workspace, or None (not a member, or the workspace is gone)."""
    workspace = store.get(consistent=True)
    if workspace is None or workspace.get("status", ACTIVE) != ACTIVE:
        return None
    member = store.member(user_id)
    if member is None:
        return None
    roles = list(member.get("roles") or [])
    team_ids = set((member.get("teams") or {}).keys())
    if team_ids:
        for team in store.teams():
            if team["team_id"] in team_ids:
                roles += [r for r in team.get("roles") or [] if r not in roles]
    return Access(
        roles=tuple(roles),
        permissions=effective_permissions(store, roles),
        member=member,
        workspace=workspace,
    )


def effective_permissions(store: WorkspaceStore, roles: Iterable[str]) -> frozenset[str]:
    roles = tuple(roles)
    granted = set(permissions_for(roles))
    if any(role not in BUILT_IN_ROLES for role in roles):
        wanted = set(roles)
        for role in store.roles():
            if role["role_id"] in wanted:
                granted |= set(role.get("permissions") or [])
    return frozenset(granted)


def can_grant(ctx: TenantContext, store: WorkspaceStore, roles: Iterable[str]) -> list[str]:
    """The roles among `roles` the caller may NOT hand out: no one grants more than they hold.

    A role is grantable when the caller holds every permission it carries (owners hold "*").
    Unknown role ids are returned too, so the caller can answer 422 for them.
    """
    refused: list[str] = []
    custom = {r["role_id"]: r for r in store.roles()} if any(r not in BUILT_IN_ROLES for r in roles) else {}
    for role in roles:
        if role in BUILT_IN_ROLES:
            carried = BUILT_IN_ROLES[role]
        elif role in custom:
            carried = frozenset(custom[role].get("permissions") or [])
        else:
            refused.append(role)
            continue
        holds_all = "*" in ctx.permissions if "*" in carried else all(ctx.can(p) for p in carried)
        if not holds_all:
            refused.append(role)
    return refused
