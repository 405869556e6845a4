"""Workspaces, members and invitations: the rules, through the API handler and the authorizer."""

from __future__ import annotations

from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.seed import SeededUser, seed_user
from tests.unit.identity.conftest import (
    GOOD_PASSWORD,
    Reply,
    authorize,
    call,
    context_for,
    emails_to,
    events,
    token_from_link,
)


class Caller:
    """A signed-in user calling the API with their bearer token, as the authorizer lets them."""

    def __init__(self, token: str, lambda_context: Any) -> None:
        self.token = token
        self.lambda_context = lambda_context

    def __call__(self, method: str, path: str, body: Any = None) -> Reply:
        ctx = context_for(self.token, self.lambda_context)
        headers = {"authorization": f"Bearer {self.token}", "content-type": "application/json"}
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["body"] = body
        return call(method, path, ctx, self.lambda_context, **kwargs)

    @property
    def allowed(self) -> bool:
        return bool(authorize(self.lambda_context, token=self.token)["isAuthorized"])


@pytest.fixture
def acme(owner: SeededUser, lambda_context: Any) -> Caller:
    return Caller(owner.token, lambda_context)


def invite(caller: Caller, email: str, roles: list[str] | None = None) -> dict[str, Any]:
    reply = caller("POST", "/api/v1/invitations", {"email": email, "roles": roles or ["member"]})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def link_token(table: str, email: str) -> str:
    return token_from_link(emails_to(table, email, "invitation")[-1]["variables"]["link"])


def join_new(table: str, caller: Caller, email: str, lambda_context: Any, roles: list[str] | None = None) -> Caller:
    invite(caller, email, roles)
    body = {"token": link_token(table, email), "password": GOOD_PASSWORD}
    reply = call("POST", "/api/v1/auth/invitations/accept", None, lambda_context, body=body)
    assert reply.status == 200, reply.body
    return Caller(reply.body["token"], lambda_context)


# --- invitations ---------------------------------------------------------------------------


def test_an_invitation_makes_a_verified_account_and_a_member_with_its_roles(
    identity_env: str, owner: SeededUser, acme: Caller, lambda_context: Any
) -> None:
    invitation = invite(acme, "Bob@Example.com", ["member"])
    assert invitation["email"] == "bob@example.com"
    assert invitation["status"] == "pending"
    token = link_token(identity_env, "bob@example.com")
    preview = call("POST", "/api/v1/auth/invitations/preview", None, lambda_context, body={"token": token})
    assert preview.status == 200
    assert preview.body["workspace_name"] == "Acme"
    assert preview.body["account_exists"] is False

    body = {"token": token, "password": GOOD_PASSWORD, "name": "Bob"}
    accepted = call("POST", "/api/v1/auth/invitations/accept", None, lambda_context, body=body)
    assert accepted.status == 200, accepted.body
    assert accepted.body["tenant_id"] == owner.tenant_id
    assert accepted.body["email_verified"] is True
    assert accepted.cookie("__Host-nf_session") == accepted.body["token"]
    bob = context_for(accepted.body["token"], lambda_context)
    assert bob.tenant_id == owner.tenant_id
    assert bob.roles == ("member",)

    members = acme("GET", "/api/v1/members").body
    assert members["seats"] == 2
    assert [(m["email"], m["roles"], m["you"]) for m in members["items"]] == [
        (owner.email, ["owner"], True),
        ("bob@example.com", ["member"], False),
    ]
    assert acme("GET", f"/api/v1/invitations/{invitation['invitation_id']}").body["status"] == "accepted"
    assert [e["data"]["seats"] for e in events(identity_env, "workspace.seats_changed")] == [2]
    assert events(identity_env, "member.added")[0]["data"]["invitation_id"] == invitation["invitation_id"]
    # Single use: the same link again is an invalid link, and writes nothing.
    again = call("POST", "/api/v1/auth/invitations/accept", None, lambda_context, body=body)
    assert again.status == 422
    assert again.body["type"].endswith("invalid-token")


def test_a_revoked_or_expired_invitation_link_stops_working(
    identity_env: str, acme: Caller, lambda_context: Any
) -> None:
    invitation = invite(acme, "carol@example.com")
    token = link_token(identity_env, "carol@example.com")
    assert acme("DELETE", f"/api/v1/invitations/{invitation['invitation_id']}").status == 204
    assert acme("DELETE", f"/api/v1/invitations/{invitation['invitation_id']}").status == 409
    body = {"token": token, "password": GOOD_PASSWORD}
    assert call("POST", "/api/v1/auth/invitations/accept", None, lambda_context, body=body).status == 422
    assert events(identity_env, "invitation.revoked")[0]["data"]["invitation_id"] == invitation["invitation_id"]

    # A second invitation may be sent once the first is revoked; then it expires.
    from functions.identity.logic import invitations
    from functions.identity.models.workspaces import AcceptInvitationNewAccount

    invite(acme, "carol@example.com")
    late = AcceptInvitationNewAccount(token=link_token(identity_env, "carol@example.com"), password=GOOD_PASSWORD)
    from functions.identity.logic.common import RequestInfo
    from functions.identity.logic.sessions import SessionPolicy
    from functions.identity.models.errors import InvalidToken

    with pytest.raises(InvalidToken):
        invitations.accept_new_account(
            IdentityDb(identity_env), late, policy=SessionPolicy(), request=RequestInfo(), now=10**10
        )


def test_inviting_twice_or_inviting_a_member_is_a_conflict(identity_env: str, owner: SeededUser, acme: Caller) -> None:
    invite(acme, "dave@example.com")
    assert acme("POST", "/api/v1/invitations", {"email": "dave@example.com"}).status == 409
    assert acme("POST", "/api/v1/invitations", {"email": owner.email}).status == 409
    assert len(acme("GET", "/api/v1/invitations").body["items"]) == 1


def test_an_existing_account_signs_in_then_accepts_as_itself(
    identity_env: str, owner: SeededUser, acme: Caller, lambda_context: Any
) -> None:
    erin = seed_user(identity_env, workspace_name="Erin's", user_id="usr_erin", email="erin@example.com")
    invite(acme, "erin@example.com", ["admin"])
    token = link_token(identity_env, "erin@example.com")
    public = call(
        "POST",
        "/api/v1/auth/invitations/accept",
        None,
        lambda_context,
        body={"token": token, "password": GOOD_PASSWORD},
    )
    assert public.status == 409
    assert public.body["type"].endswith("account-exists")

    mallory = seed_user(identity_env, workspace_name="M", user_id="usr_mallory", email="mallory@example.com")
    stolen = Caller(mallory.token, lambda_context)("POST", "/api/v1/invitations/accept", {"token": token})
    assert stolen.status == 422

    erin_caller = Caller(erin.token, lambda_context)
    accepted = erin_caller("POST", "/api/v1/invitations/accept", {"token": token})
    assert accepted.status == 200, accepted.body
    assert accepted.body["tenant_id"] == owner.tenant_id
    assert not erin_caller.allowed  # the old session moved (rotated) into the new workspace
    moved = context_for(accepted.body["token"], lambda_context)
    assert moved.tenant_id == owner.tenant_id
    assert moved.roles == ("admin",)
    mine = Caller(accepted.body["token"], lambda_context)("GET", "/api/v1/workspaces").body["items"]
    assert {w["workspace_id"] for w in mine} == {owner.tenant_id, erin.tenant_id}
    assert [w["current"] for w in mine if w["workspace_id"] == owner.tenant_id] == [True]


def test_no_one_invites_or_grants_beyond_their_own_permissions(
    identity_env: str, acme: Caller, lambda_context: Any
) -> None:
    admin = join_new(identity_env, acme, "admin@example.com", lambda_context, ["admin"])
    refused = admin("POST", "/api/v1/invitations", {"email": "x@example.com", "roles": ["owner"]})
    assert refused.status == 403
    assert refused.body["refused_roles"] == ["owner"]
    unknown = admin("POST", "/api/v1/invitations", {"email": "x@example.com", "roles": ["role_" + "0" * 16]})
    assert unknown.status == 422
    member = join_new(identity_env, acme, "member@example.com", lambda_context)
    assert member("POST", "/api/v1/invitations", {"email": "y@example.com"}).status == 403


# --- members -------------------------------------------------------------------------------


def test_a_role_change_applies_at_the_members_next_request(
    identity_env: str, acme: Caller, lambda_context: Any
) -> None:
    bob = join_new(identity_env, acme, "bob@example.com", lambda_context)
    bob_id = context_for(bob.token, lambda_context).user_id
    assert bob("PATCH", "/api/v1/workspace", {"name": "Nope"}).status == 403
    changed = acme("PATCH", f"/api/v1/members/{bob_id}", {"roles": ["admin"]})
    assert changed.status == 200
    assert changed.body["roles"] == ["admin"]
    assert bob("PATCH", "/api/v1/workspace", {"name": "Renamed by Bob"}).status == 200
    change = events(identity_env, "member.role_changed")[-1]["data"]
    assert change == {"user_id": bob_id, "old_roles": ["member"], "new_roles": ["admin"]}
    # An admin cannot touch an owner (owner carries more than admin holds).
    assert bob("PATCH", "/api/v1/members/usr_owner", {"roles": ["member"]}).status == 403


def test_the_last_owner_can_neither_leave_nor_be_demoted(identity_env: str, acme: Caller, lambda_context: Any) -> None:
    assert acme("PATCH", "/api/v1/members/usr_owner", {"roles": ["admin"]}).status == 409
    assert acme("DELETE", "/api/v1/members/usr_owner").status == 409
    co_owner = join_new(identity_env, acme, "co@example.com", lambda_context, ["owner"])
    co_id = context_for(co_owner.token, lambda_context).user_id
    assert acme("PATCH", "/api/v1/members/usr_owner", {"roles": ["admin"]}).status == 200
    # Now co is the only owner: they cannot leave, but the demoted one can.
    assert co_owner("DELETE", f"/api/v1/members/{co_id}").status == 409
    assert acme("DELETE", "/api/v1/members/usr_owner").status == 204
    assert not acme.allowed


def test_removing_a_member_ends_their_access_and_frees_the_seat(
    identity_env: str, acme: Caller, lambda_context: Any
) -> None:
    bob = join_new(identity_env, acme, "bob@example.com", lambda_context)
    bob_id = context_for(bob.token, lambda_context).user_id
    assert bob("DELETE", "/api/v1/members/usr_owner").status == 403
    assert acme("DELETE", f"/api/v1/members/{bob_id}").status == 204
    assert not bob.allowed
    assert acme("GET", "/api/v1/members").body["seats"] == 1
    assert acme("GET", f"/api/v1/members/{bob_id}").status == 404
    assert events(identity_env, "member.removed")[-1]["data"] == {"user_id": bob_id, "reason": "removed"}
    assert [e["data"]["seats"] for e in events(identity_env, "workspace.seats_changed")] == [2, 1]


# --- workspaces ----------------------------------------------------------------------------


def test_create_list_and_switch_workspaces(
    identity_env: str, owner: SeededUser, acme: Caller, lambda_context: Any
) -> None:
    created = acme("POST", "/api/v1/workspaces", {"name": "  Second  "})
    assert created.status == 201
    assert created.body["name"] == "Second"
    second = created.body["id"]
    listed = acme("GET", "/api/v1/workspaces").body["items"]
    assert [(w["name"], w["current"], w["roles"]) for w in listed] == [
        ("Acme", True, ["owner"]),
        ("Second", False, ["owner"]),
    ]

    switched = acme("POST", f"/api/v1/workspaces/{second}/switch")
    assert switched.status == 200
    assert switched.body["tenant_id"] == second
    assert not acme.allowed  # the old session ended
    assert context_for(switched.body["token"], lambda_context).tenant_id == second
    assert events(identity_env, "session.created")[-1]["data"]["reason"] == "workspace-switch"

    stranger = seed_user(identity_env, workspace_name="Other", user_id="usr_other")
    there = Caller(switched.body["token"], lambda_context)("POST", f"/api/v1/workspaces/{stranger.tenant_id}/switch")
    assert there.status == 404


def test_sign_in_lands_in_the_workspace_used_last(identity_env: str, lambda_context: Any) -> None:
    seed_user(
        identity_env, workspace_name="Home", user_id="usr_lands", email="lands@example.com", password=GOOD_PASSWORD
    )
    body = {"email": "lands@example.com", "password": GOOD_PASSWORD}
    first = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body=body).body
    caller = Caller(first["token"], lambda_context)
    second = caller("POST", "/api/v1/workspaces", {"name": "Work"}).body["id"]
    caller("POST", f"/api/v1/workspaces/{second}/switch")
    again = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body=body).body
    assert again["tenant_id"] == second


def test_deleting_a_workspace_needs_another_moves_the_session_and_can_be_undone(
    identity_env: str, owner: SeededUser, acme: Caller, lambda_context: Any
) -> None:
    lonely = acme("DELETE", "/api/v1/workspace")
    assert lonely.status == 409
    bob = join_new(identity_env, acme, "bob@example.com", lambda_context, ["admin"])
    assert bob("DELETE", "/api/v1/workspace").status == 403  # admins hold no workspace:delete
    second = acme("POST", "/api/v1/workspaces", {"name": "Second"}).body["id"]

    deleted = acme("DELETE", "/api/v1/workspace")
    assert deleted.status == 200, deleted.body
    assert deleted.body["switched_to"] == second
    assert deleted.body["workspace_id"] == owner.tenant_id
    assert not bob.allowed  # a deleted workspace grants nothing to anyone
    moved = Caller(deleted.body["token"], lambda_context)
    listed = {w["workspace_id"]: w for w in moved("GET", "/api/v1/workspaces").body["items"]}
    assert listed[owner.tenant_id]["status"] == "deleted"
    assert listed[owner.tenant_id]["purge_at"]
    assert events(identity_env, "workspace.deleted")[0]["data"]["workspace_id"] == owner.tenant_id

    restored = moved("POST", f"/api/v1/workspaces/{owner.tenant_id}/restore")
    assert restored.status == 200
    assert restored.body["name"] == "Acme"
    assert bob.allowed
    assert events(identity_env, "workspace.restored")[0]["data"]["workspace_id"] == owner.tenant_id


def test_deleting_needs_a_recent_step_up(identity_env: str, owner: SeededUser, lambda_context: Any) -> None:
    from functions.identity.logic import sessions

    db = IdentityDb(identity_env)
    row = db.sessions.get(sessions.hash_token(owner.token))
    assert row is not None
    db.sessions.repo.update((row["token_hash"],), "session", {"stepped_up_at": 1})
    reply = Caller(owner.token, lambda_context)("DELETE", "/api/v1/workspace")
    assert reply.status == 403
    assert reply.body["type"].endswith("step-up-required")
