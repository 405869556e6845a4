"""Custom roles and teams through the front door of the local cloud: an admin makes an "auditor"
role with audit:read, a team granting it, puts a plain member in the team, and that member's
next request reads the audit log (safety's `GET /api/v1/audit-events`); leaving the team takes it
away at once. Also: another workspace's role listing shows none of these."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.seed import seed_user
from ninefold_core.tenant import TenantContext
from tests.support.cloud import Api, SignedInUser, requires_system

pytestmark = [requires_system("identity"), requires_system("safety")]


def join(cloud: Any, workspace: SignedInUser, roles: list[str]) -> tuple[str, Api]:
    """A new person who is a member of `workspace` with `roles`, signed in there (seeded: the
    members API is not what this test is about)."""
    table = cloud.resource("Ninefold-Identity/Table").name
    client = cloud.client("dynamodb")
    user_id = "usr_" + uuid.uuid4().hex[:12]
    seed_user(table, workspace_name="Their own", user_id=user_id, client=client)
    db = IdentityDb(table, client)
    store = db.workspace(TenantContext(tenant_id=workspace.tenant_id, user_id="system:test"))
    member = {"user_id": user_id, "roles": roles, "teams": {}, "joined_at": "2026-01-01T00:00:00+00:00", "version": 1}
    db.transact(store.add_member_ops(member))
    issued = sessions.issue(db, user_id=user_id, tenant_id=workspace.tenant_id)
    return user_id, Api(cloud.url, issued.token)


@pytest.fixture(scope="module")
def admin(cloud: Any, tenant_a: SignedInUser) -> Api:
    return join(cloud, tenant_a, ["admin"])[1]


def test_a_team_grants_a_custom_role_to_its_members_at_their_next_request(
    cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser, admin: Api
) -> None:
    plain_id, plain = join(cloud, tenant_a, ["member"])
    assert plain.get("/api/v1/audit-events").status == 403

    # The admin makes the role and a team that grants it
    catalogue = admin.get("/api/v1/permissions")
    assert catalogue.status == 200
    assert "audit:read" in {p["permission"] for p in catalogue.json["permissions"]}
    role = admin.post(
        "/api/v1/roles", {"name": "auditor", "description": "Reads the log", "permissions": ["audit:read"]}
    )
    assert role.status == 201, role.text
    role_id = role.json["role_id"]
    team = admin.post("/api/v1/teams", {"name": "Auditors", "roles": [role_id]})
    assert team.status == 201, team.text
    team_id = team.json["team_id"]

    # and puts the plain member in the team: their next request may read the audit log
    added = admin.request("PUT", f"/api/v1/teams/{team_id}/members/{plain_id}", json_body={"team_role": "member"})
    assert added.status == 200, added.text
    me = plain.get("/api/v1/me").json
    assert role_id in me["roles"]
    assert "audit:read" in me["permissions"]
    assert plain.get("/api/v1/audit-events").status == 200
    assert plain.post("/api/v1/roles", {"name": "mine", "permissions": ["audit:read"]}).status == 403

    listed = admin.get(f"/api/v1/teams/{team_id}/members").json["items"]
    assert [(m["user_id"], m["team_role"]) for m in listed] == [(plain_id, "member")]

    # The role is held, so it cannot go
    assert admin.delete(f"/api/v1/roles/{role_id}").status == 409

    # Another workspace sees none of it
    theirs = tenant_b.api.get("/api/v1/roles")
    assert theirs.status == 200
    assert role_id not in theirs.text
    assert "auditor" not in theirs.text
    assert tenant_b.api.get(f"/api/v1/roles/{role_id}").status == 404
    assert tenant_b.api.get(f"/api/v1/teams/{team_id}/members").status == 404

    # Leaving the team takes the permission away at once
    assert admin.delete(f"/api/v1/teams/{team_id}/members/{plain_id}").status == 204
    assert plain.get("/api/v1/audit-events").status == 403

    # and with the team gone, the role can be deleted
    assert admin.delete(f"/api/v1/teams/{team_id}").status == 204
    assert admin.delete(f"/api/v1/roles/{role_id}").status == 204


def test_an_admin_cannot_make_a_role_stronger_than_themselves(admin: Api) -> None:
    refused = admin.post("/api/v1/roles", {"name": "Payer", "permissions": ["billing:manage"]})
    assert refused.status == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["missing_permissions"] == ["billing:manage"]
    assert admin.post("/api/v1/teams", {"name": "Owners club", "roles": ["owner"]}).status == 403
