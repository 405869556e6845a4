"""Seeding for local development and tests: a workspace, its owner and a session.

Until sign-up lands (issue 3) this is how `make dev` and the test fixtures get
signed-in users. It writes through identity's own store, like sign-up will.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import SessionStore, WorkspaceStore
from functions.identity.logic import sessions, workspaces
from ninefold_core.tenant import TenantContext


@dataclass(frozen=True)
class SeededUser:
    tenant_id: str
    user_id: str
    token: str
    workspace_name: str


def seed_user(
    table_name: str, *, workspace_name: str, user_id: str, roles: list[str] | None = None, client: Any | None = None
) -> SeededUser:
    tenant_id = workspaces.new_tenant_id()
    ctx = TenantContext(tenant_id=tenant_id, user_id=user_id)
    store = WorkspaceStore(table_name, ctx, client)
    workspaces.create(ctx, workspace_name, user_id, store)
    if roles and roles != ["owner"]:
        store.repo.update(("MEMBER", user_id), "member", {"roles": roles})
    issued = sessions.issue(SessionStore(table_name, client), user_id=user_id, tenant_id=tenant_id)
    return SeededUser(tenant_id=tenant_id, user_id=user_id, token=issued.token, workspace_name=workspace_name)
