"""Seeding for local development and tests: a user, their workspace and a session.

Writes through identity's own stores, as sign-up does (user, address, workspace, membership,
session), without the email round trip: seeded addresses count as verified. A seeded user has
no password unless one is given, so they can only use the printed session token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import MEMBERS_PK, IdentityDb
from functions.identity.logic import passwords, sessions, workspaces
from ninefold_core.tenant import TenantContext

SEED_EMAIL_DOMAIN = "seed.ninefold.test"


@dataclass(frozen=True)
class SeededUser:
    tenant_id: str
    user_id: str
    token: str
    workspace_name: str
    email: str
    session_id: str


def seed_user(
    table_name: str,
    *,
    workspace_name: str,
    user_id: str,
    roles: list[str] | None = None,
    client: Any | None = None,
    email: str | None = None,
    password: str | None = None,
) -> SeededUser:
    db = IdentityDb(table_name, client)
    tenant_id = workspaces.new_tenant_id()
    email = (email or f"{user_id.replace('_', '-')}@{SEED_EMAIL_DOMAIN}").strip().casefold()
    ctx = TenantContext(tenant_id=tenant_id, user_id=user_id)
    store = db.workspace(ctx)
    user = {
        "user_id": user_id,
        "email": email,
        "password_hash": passwords.hash_password(password) if password else None,
        "email_verified": True,
        "home_tenant_id": tenant_id,
        "generation": 0,
        "disabled": False,
        "created_at": int(time.time()),
    }
    _, workspace_ops = workspaces.create_ops(ctx, workspace_name, user_id, store, owner=user)
    db.transact([*db.users.create_ops(user), *workspace_ops])
    if roles and roles != ["owner"]:
        store.repo.update(MEMBERS_PK, f"member#{user_id}", {"roles": roles})
    issued = sessions.issue(db, user_id=user_id, tenant_id=tenant_id)
    return SeededUser(
        tenant_id=tenant_id,
        user_id=user_id,
        token=issued.token,
        workspace_name=workspace_name,
        email=email,
        session_id=issued.session_id,
    )
