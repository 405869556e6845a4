"""Custom roles through identity's API handler: the catalogue, CRUD, no escalation, unique names,
built-ins immutable, roles in use cannot be deleted, and holders' access follows the role."""

from __future__ import annotations

import time
from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.logic.access import resolve, store_for
from functions.identity.seed import SeededUser, seed_user
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import Reply, call, context_for, events

JOINED = "2026-01-01T00:00:00+00:00"


# --- helpers shared with test_teams.py ---------------------------------------------------------


def add_member(db: IdentityDb, tenant_id: str, user_id: str, roles: list[str]) -> None:
    """A second member, written straight into the workspace (as the members API would)."""
    store = db.workspace(TenantContext(tenant_id=tenant_id, user_id="system:test"))
    member = {"user_id": user_id, "roles": roles, "teams": {}, "joined_at": JOINED, "version": 1}
    db.transact(store.add_member_ops(member))


def ctx_of(db: IdentityDb, tenant_id: str, user_id: str) -> TenantContext:
    """The context the authorizer would build for `user_id` now (roles resolved through teams)."""
    access = resolve(store_for(db.table_name, tenant_id), user_id)
    assert access is not None, f"{user_id} is not a member of {tenant_id}"
    return TenantContext(tenant_id=tenant_id, user_id=user_id, roles=access.roles, permissions=access.permissions)


def member_token(db: IdentityDb, owner: SeededUser, user_id: str, roles: list[str]) -> str:
    """A real user who is a member of the owner's workspace, and a session token there."""
    seed_user(db.table_name, workspace_name=f"{user_id}'s own", user_id=user_id)
    add_member(db, owner.tenant_id, user_id, roles)
    return sessions.issue(db, user_id=user_id, tenant_id=owner.tenant_id).token


def create_role(ctx: TenantContext, lambda_context: Any, name: str, permissions: list[str]) -> Reply:
    return call("POST", "/api/v1/roles", ctx, lambda_context, body={"name": name, "permissions": permissions})


# --- the catalogue and listing -------------------------------------------------------------


def test_the_catalogue_lists_permissions_and_built_in_roles(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    reply = call("GET", "/api/v1/permissions", ctx, lambda_context)
    assert reply.status == 200, reply.body
    assert {"permission": "audit:read", "description": "Read the audit log"} in reply.body["permissions"]
    built_in = {r["role_id"]: r["permissions"] for r in reply.body["built_in_roles"]}
    assert set(built_in) == {"owner", "admin", "member", "billing"}
    assert built_in["owner"] == ["*"]


def test_create_get_list_update_and_delete_a_custom_role(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    created = call(
        "POST",
        "/api/v1/roles",
        ctx,
        lambda_context,
        body={"name": " Auditor ", "description": "Reads the log", "permissions": ["audit:read", "audit:read"]},
    )
    assert created.status == 201, created.body
    role_id = created.body["role_id"]
    assert role_id.startswith("role_")
    assert (created.body["name"], created.body["permissions"], created.body["built_in"]) == (
        "Auditor",
        ["audit:read"],
        False,
    )

    listed = call("GET", "/api/v1/roles", ctx, lambda_context).body["items"]
    assert [r["role_id"] for r in listed if r["built_in"]] == ["owner", "admin", "member", "billing"]
    assert [r["role_id"] for r in listed if not r["built_in"]] == [role_id]

    assert call("GET", f"/api/v1/roles/{role_id}", ctx, lambda_context).body["name"] == "Auditor"

    patched = call(
        "PATCH",
        f"/api/v1/roles/{role_id}",
        ctx,
        lambda_context,
        body={"name": "Auditors", "permissions": ["audit:read", "jobs:read"]},
    )
    assert patched.status == 200, patched.body
    assert (patched.body["name"], patched.body["permissions"], patched.body["version"]) == (
        "Auditors",
        ["audit:read", "jobs:read"],
        2,
    )
    # the old name is free again
    assert create_role(ctx, lambda_context, "auditor", ["audit:read"]).status == 201

    assert call("DELETE", f"/api/v1/roles/{role_id}", ctx, lambda_context).status == 204
    assert call("GET", f"/api/v1/roles/{role_id}", ctx, lambda_context).status == 404
    assert [e["data"]["role_id"] for e in events(db.table_name, "role.deleted")] == [role_id]
    assert len(events(db.table_name, "role.created")) == 2
    assert events(db.table_name, "role.updated")[0]["data"]["old_permissions"] == ["audit:read"]
    # and its name too
    assert create_role(ctx, lambda_context, "AUDITORS", ["audit:read"]).status == 201


def test_names_are_unique_ignoring_case(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    first = create_role(ctx, lambda_context, "Auditor", ["audit:read"])
    other = create_role(ctx, lambda_context, "Jobs", ["jobs:read"])
    assert create_role(ctx, lambda_context, "aUDITOR", ["jobs:read"]).status == 409
    assert create_role(ctx, lambda_context, "Admin", ["jobs:read"]).status == 409  # a built-in's name
    renamed = call("PATCH", f"/api/v1/roles/{other.body['role_id']}", ctx, lambda_context, body={"name": "auditor"})
    assert renamed.status == 409
    assert renamed.headers["Content-Type"] == "application/problem+json"
    # renaming a role to another case of its own name is fine
    same = call("PATCH", f"/api/v1/roles/{first.body['role_id']}", ctx, lambda_context, body={"name": "AUDITOR"})
    assert (same.status, same.body["name"]) == (200, "AUDITOR")


def test_permissions_must_be_in_the_catalogue(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    for bad in (["audit:write"], ["*"], ["platform:operate"], []):
        reply = create_role(ctx, lambda_context, "Bad", bad)
        assert reply.status == 422, (bad, reply.body)
        assert reply.body["errors"][0]["field"].startswith("permissions"), reply.body
    assert create_role(ctx, lambda_context, "Everything about jobs", ["jobs:*"]).status == 201


def test_no_one_creates_or_edits_a_role_stronger_than_themselves(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    owner_ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    add_member(db, owner.tenant_id, "usr_admin", ["admin"])
    admin = ctx_of(db, owner.tenant_id, "usr_admin")

    refused = create_role(admin, lambda_context, "Biller", ["billing:manage"])
    assert refused.status == 403
    assert refused.body["missing_permissions"] == ["billing:manage"]
    assert create_role(admin, lambda_context, "Auditor", ["audit:read", "jobs:*"]).status == 201

    strong = create_role(owner_ctx, lambda_context, "Workspace killer", ["workspace:delete"]).body["role_id"]
    for method, body in (("PATCH", {"name": "Harmless"}), ("DELETE", None)):
        kwargs = {"body": body} if body else {}
        reply = call(method, f"/api/v1/roles/{strong}", admin, lambda_context, **kwargs)
        assert reply.status == 403, (method, reply.body)
    weak = create_role(owner_ctx, lambda_context, "Reader", ["jobs:read"]).body["role_id"]
    upgraded = call("PATCH", f"/api/v1/roles/{weak}", admin, lambda_context, body={"permissions": ["billing:manage"]})
    assert upgraded.status == 403
    assert call("GET", f"/api/v1/roles/{weak}", admin, lambda_context).body["permissions"] == ["jobs:read"]


def test_managing_roles_needs_roles_manage(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    add_member(db, owner.tenant_id, "usr_plain", ["member"])
    plain = ctx_of(db, owner.tenant_id, "usr_plain")
    assert call("GET", "/api/v1/roles", plain, lambda_context).status == 200  # roles:read
    reply = create_role(plain, lambda_context, "Mine", ["jobs:read"])
    assert (reply.status, reply.body["missing_permissions"]) == (403, ["roles:manage"])


def test_built_in_roles_cannot_be_changed_or_deleted(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    for method in ("PATCH", "DELETE"):
        kwargs = {"body": {"name": "Boss"}} if method == "PATCH" else {}
        reply = call(method, "/api/v1/roles/owner", ctx, lambda_context, **kwargs)
        assert reply.status == 422, reply.body  # built-ins are not `role_…` ids
        assert reply.headers["Content-Type"] == "application/problem+json"
    unknown = call("DELETE", "/api/v1/roles/role_" + "0" * 20, ctx, lambda_context)
    assert unknown.status == 404


def test_a_role_that_is_held_cannot_be_deleted(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    role_id = create_role(ctx, lambda_context, "Auditor", ["audit:read"]).body["role_id"]
    add_member(db, owner.tenant_id, "usr_held", ["member", role_id])
    team = call("POST", "/api/v1/teams", ctx, lambda_context, body={"name": "Audit", "roles": [role_id]})
    assert team.status == 201, team.body

    refused = call("DELETE", f"/api/v1/roles/{role_id}", ctx, lambda_context)
    assert refused.status == 409
    assert refused.body["held_by"] == {"members": 1, "teams": 1, "invitations": 0}

    assert call("DELETE", f"/api/v1/teams/{team.body['team_id']}", ctx, lambda_context).status == 204
    store = db.workspace(ctx)
    store.repo.update(("MEMBERS",), "member#usr_held", {"roles": ["member"]})
    assert call("DELETE", f"/api/v1/roles/{role_id}", ctx, lambda_context).status == 204


def test_a_role_held_by_a_pending_invitation_cannot_be_deleted(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    role_id = create_role(ctx, lambda_context, "Auditor", ["audit:read"]).body["role_id"]
    store = db.workspace(ctx)
    later, earlier = int(time.time()) + 3600, int(time.time()) - 1
    for invitation_id, status, expires_at in (
        ("inv_1", "pending", later),
        ("inv_2", "revoked", later),
        ("inv_3", "pending", earlier),  # expired
    ):
        item = {"invitation_id": invitation_id, "roles": [role_id], "status": status, "expires_at": expires_at}
        store.repo.put(("INVITES",), f"invite#{invitation_id}", item)
    refused = call("DELETE", f"/api/v1/roles/{role_id}", ctx, lambda_context)
    assert (refused.status, refused.body["held_by"]["invitations"]) == (409, 1)


def test_changing_a_role_changes_its_holders_access_at_once(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    role_id = create_role(ctx, lambda_context, "Auditor", ["jobs:read"]).body["role_id"]
    token = member_token(db, owner, "usr_holder", [role_id])
    assert "audit:read" not in context_for(token, lambda_context).permissions

    call("PATCH", f"/api/v1/roles/{role_id}", ctx, lambda_context, body={"permissions": ["audit:read"]})
    through_authorizer = context_for(token, lambda_context)
    assert through_authorizer.roles == (role_id,)
    assert through_authorizer.can("audit:read")
    assert not through_authorizer.can("jobs:read")
