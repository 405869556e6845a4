"""Teams through identity's API handler: CRUD, unique names, grants through access.resolve,
no escalation through a team, leads manage their own team only, and the two-row membership."""

from __future__ import annotations

from typing import Any

from functions.identity.dal.store import MEMBERS_PK, IdentityDb
from functions.identity.seed import SeededUser
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import Reply, call, context_for, events
from tests.unit.identity.test_roles import add_member, create_role, ctx_of, member_token


def create_team(ctx: TenantContext, lambda_context: Any, name: str, roles: list[str]) -> Reply:
    return call("POST", "/api/v1/teams", ctx, lambda_context, body={"name": name, "roles": roles})


def put_member(ctx: TenantContext, lambda_context: Any, team_id: str, user_id: str, team_role: str = "member") -> Reply:
    return call("PUT", f"/api/v1/teams/{team_id}/members/{user_id}", ctx, lambda_context, body={"team_role": team_role})


def member_row(db: IdentityDb, tenant_id: str, user_id: str) -> dict[str, Any]:
    row = db.workspace(TenantContext(tenant_id=tenant_id, user_id="system:test")).member(user_id)
    assert row is not None
    return row


def test_create_list_get_update_and_delete_a_team(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    created = call(
        "POST", "/api/v1/teams", ctx, lambda_context, body={"name": "Support", "description": "Help desk", "roles": []}
    )
    assert created.status == 201, created.body
    team_id = created.body["team_id"]
    assert team_id.startswith("team_")
    assert [t["team_id"] for t in call("GET", "/api/v1/teams", ctx, lambda_context).body["items"]] == [team_id]
    assert call("GET", f"/api/v1/teams/{team_id}", ctx, lambda_context).body["description"] == "Help desk"

    patched = call(
        "PATCH", f"/api/v1/teams/{team_id}", ctx, lambda_context, body={"name": "Care", "roles": ["billing"]}
    )
    assert patched.status == 200, patched.body
    assert (patched.body["name"], patched.body["roles"], patched.body["version"]) == ("Care", ["billing"], 2)

    assert call("DELETE", f"/api/v1/teams/{team_id}", ctx, lambda_context).status == 204
    assert call("GET", f"/api/v1/teams/{team_id}", ctx, lambda_context).status == 404
    assert call("GET", f"/api/v1/teams/{team_id}/members", ctx, lambda_context).status == 404
    types = [e["metadata"]["type"] for e in events(db.table_name) if e["metadata"]["type"].startswith("team.")]
    assert types == ["team.created", "team.updated", "team.deleted"]


def test_team_names_are_unique_and_roles_must_exist(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    assert create_team(ctx, lambda_context, "Support", []).status == 201
    assert create_team(ctx, lambda_context, "SUPPORT", []).status == 409
    unknown = create_team(ctx, lambda_context, "Ghosts", ["role_" + "a" * 20])
    assert unknown.status == 422
    assert unknown.body["errors"][0]["field"] == "roles"
    assert create_team(ctx, lambda_context, "Bad", ["superuser"]).status == 422


def test_a_team_grants_its_roles_to_its_members_through_resolve(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    auditor = create_role(ctx, lambda_context, "Auditor", ["audit:read"]).body["role_id"]
    team_id = create_team(ctx, lambda_context, "Audit", [auditor]).body["team_id"]
    token = member_token(db, owner, "usr_plain", ["member"])
    assert not context_for(token, lambda_context).can("audit:read")

    added = put_member(ctx, lambda_context, team_id, "usr_plain")
    assert added.status == 200, added.body
    assert added.body["team_role"] == "member"
    # both rows, in one transaction
    assert member_row(db, owner.tenant_id, "usr_plain")["teams"] == {team_id: "member"}
    listed = call("GET", f"/api/v1/teams/{team_id}/members", ctx, lambda_context).body["items"]
    assert [(m["user_id"], m["team_role"]) for m in listed] == [("usr_plain", "member")]

    granted = context_for(token, lambda_context)  # the authorizer, at the next request
    assert granted.roles == ("member", auditor)
    assert granted.can("audit:read")

    assert call("DELETE", f"/api/v1/teams/{team_id}/members/usr_plain", ctx, lambda_context).status == 204
    assert member_row(db, owner.tenant_id, "usr_plain")["teams"] == {}
    assert not context_for(token, lambda_context).can("audit:read")
    types = [e["metadata"]["type"] for e in events(db.table_name) if e["metadata"]["type"].startswith("team.member")]
    assert types == ["team.member_added", "team.member_removed"]


def test_deleting_a_team_takes_its_roles_away_and_clears_member_rows(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    team_id = create_team(ctx, lambda_context, "Billing", ["billing"]).body["team_id"]
    for n in range(3):
        add_member(db, owner.tenant_id, f"usr_m{n}", ["member"])
        assert put_member(ctx, lambda_context, team_id, f"usr_m{n}").status == 200
    assert ctx_of(db, owner.tenant_id, "usr_m0").can("billing:manage")

    assert call("DELETE", f"/api/v1/teams/{team_id}", ctx, lambda_context).status == 204
    for n in range(3):
        assert member_row(db, owner.tenant_id, f"usr_m{n}")["teams"] == {}
        assert not ctx_of(db, owner.tenant_id, f"usr_m{n}").can("billing:manage")
    assert len(events(db.table_name, "team.member_removed")) == 3


def test_no_escalation_through_teams(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    owner_ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    add_member(db, owner.tenant_id, "usr_admin", ["admin"])
    admin = ctx_of(db, owner.tenant_id, "usr_admin")

    refused = create_team(admin, lambda_context, "Owners", ["owner"])
    assert refused.status == 403
    assert refused.body["refused_roles"] == ["owner"]
    # an owner's team that grants owner: the admin cannot join it, nor change or delete it
    owners = create_team(owner_ctx, lambda_context, "Owners", ["owner"]).body["team_id"]
    assert put_member(admin, lambda_context, owners, "usr_admin").status == 403
    assert "owner" not in ctx_of(db, owner.tenant_id, "usr_admin").roles
    assert call("PATCH", f"/api/v1/teams/{owners}", admin, lambda_context, body={"roles": []}).status == 403
    assert call("DELETE", f"/api/v1/teams/{owners}", admin, lambda_context).status == 403
    # but a team with roles the admin holds is fine
    readers = create_team(admin, lambda_context, "Readers", ["member"])
    assert readers.status == 201, readers.body


def test_a_lead_manages_their_own_team_but_not_another(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    mine = create_team(ctx, lambda_context, "Mine", ["member"]).body["team_id"]
    other = create_team(ctx, lambda_context, "Other", ["member"]).body["team_id"]
    for user_id in ("usr_lead", "usr_a", "usr_b"):
        add_member(db, owner.tenant_id, user_id, ["member"])
    assert put_member(ctx, lambda_context, mine, "usr_lead", "lead").status == 200
    lead = ctx_of(db, owner.tenant_id, "usr_lead")
    assert not lead.can("teams:manage")

    assert put_member(lead, lambda_context, mine, "usr_a").status == 200
    promoted = put_member(lead, lambda_context, mine, "usr_a", "lead")
    assert (promoted.status, promoted.body["team_role"]) == (200, "lead")
    assert member_row(db, owner.tenant_id, "usr_a")["teams"] == {mine: "lead"}
    assert events(db.table_name, "team.member_role_changed")[0]["data"]["new_team_role"] == "lead"
    assert call("DELETE", f"/api/v1/teams/{mine}/members/usr_a", lead, lambda_context).status == 204

    # not another team, and not the team itself
    refused = put_member(lead, lambda_context, other, "usr_b")
    assert (refused.status, refused.body["missing_permissions"]) == (403, ["teams:manage"])
    assert call("PATCH", f"/api/v1/teams/{mine}", lead, lambda_context, body={"roles": []}).status == 403
    assert call("DELETE", f"/api/v1/teams/{mine}", lead, lambda_context).status == 403
    # and a plain team member is no lead
    assert put_member(ctx, lambda_context, mine, "usr_b").status == 200
    plain = ctx_of(db, owner.tenant_id, "usr_b")
    assert put_member(plain, lambda_context, mine, "usr_a").status == 403


def test_only_workspace_members_join_teams(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    team_id = create_team(ctx, lambda_context, "Support", []).body["team_id"]
    assert put_member(ctx, lambda_context, team_id, "usr_stranger").status == 404
    assert call("DELETE", f"/api/v1/teams/{team_id}/members/usr_stranger", ctx, lambda_context).status == 404
    assert put_member(ctx, lambda_context, "team_" + "0" * 20, owner.user_id).status == 404
    bad = call(
        "PUT", f"/api/v1/teams/{team_id}/members/{owner.user_id}", ctx, lambda_context, body={"team_role": "boss"}
    )
    assert bad.status == 422


def test_a_stale_member_row_makes_the_membership_change_conflict(
    owner: SeededUser, db: IdentityDb, lambda_context: Any, monkeypatch: Any
) -> None:
    """Another writer changes the member row between our read and our write: 409, nothing half-written."""
    from functions.identity.dal.store import WorkspaceStore

    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    team_id = create_team(ctx, lambda_context, "Support", []).body["team_id"]
    add_member(db, owner.tenant_id, "usr_racer", ["member"])
    original = WorkspaceStore.member

    edited: list[bool] = []

    def member_then_concurrent_edit(self: WorkspaceStore, user_id: str) -> dict[str, Any] | None:
        row = original(self, user_id)
        if user_id == "usr_racer" and not edited:  # one concurrent edit, right after our first read
            edited.append(True)
            self.repo.update(MEMBERS_PK, "member#usr_racer", {"roles": ["billing"], "version": 2})
        return row

    monkeypatch.setattr(WorkspaceStore, "member", member_then_concurrent_edit)
    reply = put_member(ctx, lambda_context, team_id, "usr_racer")
    monkeypatch.setattr(WorkspaceStore, "member", original)
    assert reply.status == 409
    assert call("GET", f"/api/v1/teams/{team_id}/members", ctx, lambda_context).body["items"] == []
    assert member_row(db, owner.tenant_id, "usr_racer")["teams"] == {}


def test_a_role_that_no_longer_exists_does_not_block_the_team(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    """A custom role deleted while a team named it (a race): it grants nothing, and the team can
    still take members and drop it."""
    ctx = ctx_of(db, owner.tenant_id, owner.user_id)
    role_id = create_role(ctx, lambda_context, "Auditor", ["audit:read"]).body["role_id"]
    team_id = create_team(ctx, lambda_context, "Audit", [role_id, "billing"]).body["team_id"]
    db.workspace(ctx).repo.delete(("ROLES",), f"role#{role_id}")
    add_member(db, owner.tenant_id, "usr_late", ["member"])

    assert put_member(ctx, lambda_context, team_id, "usr_late").status == 200
    late = ctx_of(db, owner.tenant_id, "usr_late")
    assert late.can("billing:manage")
    assert not late.can("audit:read")
    dropped = call("PATCH", f"/api/v1/teams/{team_id}", ctx, lambda_context, body={"roles": ["billing"]})
    assert (dropped.status, dropped.body["roles"]) == (200, ["billing"])
    readded = call("PATCH", f"/api/v1/teams/{team_id}", ctx, lambda_context, body={"roles": ["billing", role_id]})
    assert readded.status == 422
