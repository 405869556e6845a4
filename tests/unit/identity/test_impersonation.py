"""Platform admins: impersonation (time-boxed, audited, never stepped up) and disabling users."""

from __future__ import annotations

from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions, step_up
from functions.identity.logic.common import RequestInfo
from functions.identity.logic.sessions import SessionPolicy
from functions.identity.seed import SeededUser, seed_user
from ninefold_core.tenant import TenantContext
from scripts.grant_platform_role import set_role
from tests.unit.identity.conftest import Reply, authorize, call, context_for, events

POLICY = SessionPolicy()
REASON = "Support ticket #4821: cannot rename the workspace"


@pytest.fixture
def admin(identity_env: str, db: IdentityDb) -> SeededUser:
    seeded = seed_user(identity_env, workspace_name="Ops", user_id="usr_admin")
    set_role(db, seeded.email, "admin")
    return seeded


@pytest.fixture
def admin_ctx(admin: SeededUser, lambda_context: Any) -> TenantContext:
    return context_for(admin.token, lambda_context)


def impersonate(admin_ctx: TenantContext, lambda_context: Any, **body: Any) -> Reply:
    return call("POST", "/api/v1/admin/impersonations", admin_ctx, lambda_context, body=body)


def started(admin_ctx: TenantContext, lambda_context: Any, user: SeededUser, minutes: int = 30) -> Reply:
    reply = impersonate(admin_ctx, lambda_context, user_id=user.user_id, reason=REASON, minutes=minutes)
    assert reply.status == 200, reply.body
    return reply


# --- starting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "too short"}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "          padded     "}, "reason"),
        ({"reason": REASON, "minutes": 0}, "minutes"),
        ({"reason": REASON, "minutes": 61}, "minutes"),
    ],
)
def test_a_reason_of_10_to_500_characters_and_1_to_60_minutes_are_required(
    owner: SeededUser, admin_ctx: TenantContext, lambda_context: Any, body: dict[str, Any], field: str
) -> None:
    reply = impersonate(admin_ctx, lambda_context, user_id=owner.user_id, **body)
    assert reply.status == 422, reply.body
    assert field in str(reply.body)


def test_workspace_owners_are_not_platform_admins(owner: SeededUser, admin: SeededUser, lambda_context: Any) -> None:
    owner_ctx = context_for(owner.token, lambda_context)
    assert "*" in owner_ctx.permissions
    reply = impersonate(owner_ctx, lambda_context, user_id=admin.user_id, reason=REASON)
    assert reply.status == 403
    assert reply.body["missing_permissions"] == ["platform:impersonate"]


def test_admins_cannot_impersonate_themselves_or_anyone_with_a_platform_role(
    identity_env: str, db: IdentityDb, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    operator = seed_user(identity_env, workspace_name="Ops 2", user_id="usr_operator")
    set_role(db, operator.email, "operator")

    for target in (admin.user_id, operator.user_id):
        reply = impersonate(admin_ctx, lambda_context, user_id=target, reason=REASON)
        assert reply.status == 403, reply.body
    assert not [s for s in db.sessions.of_user(operator.user_id) if s.get("impersonator_id")]
    assert events(identity_env, "impersonation.started") == []


def test_the_workspace_must_be_one_of_the_users(
    owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    reply = impersonate(admin_ctx, lambda_context, user_id=owner.user_id, tenant_id=admin.tenant_id, reason=REASON)
    assert reply.status == 422
    assert reply.body["errors"][0]["field"] == "tenant_id"
    assert impersonate(admin_ctx, lambda_context, user_id="usr_nobody", reason=REASON).status == 404


def test_the_session_acts_as_the_user_with_their_workspace_permissions_and_the_chain(
    owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    reply = started(admin_ctx, lambda_context, owner)
    assert (reply.body["user_id"], reply.body["tenant_id"]) == (owner.user_id, owner.tenant_id)
    assert (reply.body["impersonator_id"], reply.body["reason"]) == (admin.user_id, REASON)
    # The admin's browser switches to the impersonated session.
    assert reply.cookie(sessions.SESSION_COOKIE) == reply.body["token"]
    assert reply.cookie(sessions.CSRF_COOKIE) == reply.body["csrf_token"]

    ctx = context_for(reply.body["token"], lambda_context)
    assert (ctx.user_id, ctx.tenant_id) == (owner.user_id, owner.tenant_id)
    assert ctx.impersonator is not None
    assert (ctx.impersonator.user_id, ctx.impersonator.reason) == (admin.user_id, REASON)
    assert ctx.actor_chain == (admin.user_id, owner.user_id)
    assert ctx.can("workspace:update")  # the owner's "*"
    assert not any(p.startswith("platform:") for p in ctx.permissions)
    assert not ctx.can("platform:impersonate")

    me = call("GET", "/api/v1/me", ctx, lambda_context)
    assert me.status == 200
    assert (me.body["impersonated_by"], me.body["impersonation_reason"]) == (admin.user_id, REASON)
    assert me.body["impersonation_expires_at"] is not None

    # An impersonated session cannot impersonate again (it has no platform permissions).
    assert impersonate(ctx, lambda_context, user_id=owner.user_id, reason=REASON).status == 403


def test_the_time_box_ends_the_session(
    owner: SeededUser, db: IdentityDb, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    token = started(admin_ctx, lambda_context, owner, minutes=5).body["token"]
    row = db.sessions.get(sessions.hash_token(token))
    assert row is not None
    assert row["expires_at"] == row["created_at"] + 5 * 60
    assert row["ttl"] == row["expires_at"]
    assert sessions.authenticate(token, db, POLICY, now=row["created_at"] + 5 * 60 - 1) is not None
    assert sessions.authenticate(token, db, POLICY, now=row["created_at"] + 5 * 60) is None


def test_an_impersonated_session_is_never_stepped_up(
    owner: SeededUser, db: IdentityDb, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    token = started(admin_ctx, lambda_context, owner).body["token"]
    assert db.sessions.get(sessions.hash_token(token)).get("stepped_up_at") is None  # type: ignore[union-attr]
    ctx = context_for(token, lambda_context)
    with pytest.raises(step_up.StepUpRequired):
        step_up.require_recent(ctx)
    # Even if a step-up time were forged into the context, an impersonator rules it out.
    with pytest.raises(step_up.StepUpRequired):
        step_up.require_recent(ctx.model_copy(update={"stepped_up_at": ctx.stepped_up_at or 10**10}), now=10**10)
    # Rotating the session keeps it an impersonation, with the same time box.
    found = sessions.authenticate(token, db, POLICY)
    assert found is not None
    rotated = sessions.rotate(db, found.session, policy=POLICY, request=RequestInfo())
    again = sessions.authenticate(rotated.token, db, POLICY)
    assert again is not None
    assert again.ctx.impersonator is not None
    assert again.session["expires_at"] == found.session["expires_at"]
    assert again.ctx.stepped_up_at is None


def test_events_carry_the_whole_actor_chain(
    identity_env: str, owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    reply = started(admin_ctx, lambda_context, owner, minutes=15)

    [start] = events(identity_env, "impersonation.started")
    assert start["metadata"]["tenant_id"] == owner.tenant_id  # the workspace entered sees it
    assert start["data"] == {
        "impersonator_id": admin.user_id,
        "user_id": owner.user_id,
        "tenant_id": owner.tenant_id,
        "session_id": reply.body["session_id"],
        "reason": REASON,
        "expires_at": start["data"]["expires_at"],
    }
    created = [
        e for e in events(identity_env, "session.created") if e["data"]["session_id"] == reply.body["session_id"]
    ]
    assert created[0]["metadata"]["correlation"]["actor_chain"] == [admin.user_id, owner.user_id]

    # Whatever the session does is recorded as the admin acting as the owner.
    ctx = context_for(reply.body["token"], lambda_context)
    renamed = call("PATCH", "/api/v1/workspace", ctx, lambda_context, body={"name": "Renamed by support"})
    assert renamed.status == 200, renamed.body
    [event] = events(identity_env, "workspace.renamed")
    correlation = event["metadata"]["correlation"]
    assert correlation["actor_chain"] == [admin.user_id, owner.user_id]
    assert (correlation["user_id"], correlation["impersonator_id"]) == (owner.user_id, admin.user_id)


@pytest.mark.parametrize("how", ["revoke", "disable"])
def test_an_admin_who_loses_the_role_ends_their_impersonations_at_once(
    owner: SeededUser,
    admin: SeededUser,
    db: IdentityDb,
    admin_ctx: TenantContext,
    lambda_context: Any,
    how: str,
) -> None:
    token = started(admin_ctx, lambda_context, owner).body["token"]
    assert authorize(lambda_context, token=token)["isAuthorized"] is True
    if how == "revoke":
        set_role(db, admin.email, "admin", revoke=True)
    else:
        db.users.repo.update((admin.user_id,), "user", {"disabled": True})
    assert authorize(lambda_context, token=token)["isAuthorized"] is False
    # The owner's own session is untouched.
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is True


def test_ending_an_impersonation_deletes_its_session(
    identity_env: str, owner: SeededUser, db: IdentityDb, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    token = started(admin_ctx, lambda_context, owner).body["token"]
    ctx = context_for(token, lambda_context)

    # An ordinary session is not an impersonation.
    owner_ctx = context_for(owner.token, lambda_context)
    plain = call(
        "POST",
        "/api/v1/admin/impersonations/end",
        owner_ctx,
        lambda_context,
        headers={"authorization": f"Bearer {owner.token}"},
    )
    assert plain.status == 403

    ended = call(
        "POST", "/api/v1/admin/impersonations/end", ctx, lambda_context, headers={"authorization": f"Bearer {token}"}
    )
    assert ended.status == 204
    assert ended.cookie(sessions.SESSION_COOKIE) == ""
    assert db.sessions.get(sessions.hash_token(token)) is None
    assert authorize(lambda_context, token=token)["isAuthorized"] is False
    [event] = events(identity_env, "impersonation.ended")
    assert event["data"]["user_id"] == owner.user_id
    assert event["metadata"]["correlation"]["impersonator_id"] == ctx.impersonator.user_id  # type: ignore[union-attr]


# --- users ---------------------------------------------------------------------------------


def test_admins_find_users_by_email(
    owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    found = call("GET", "/api/v1/admin/users", admin_ctx, lambda_context, query={"email": owner.email.upper()})
    assert found.status == 200, found.body
    assert found.body["user_id"] == owner.user_id
    assert found.body["workspaces"] == [owner.tenant_id]
    assert (found.body["disabled"], found.body["platform_roles"]) == (False, [])
    me = call("GET", "/api/v1/admin/users", admin_ctx, lambda_context, query={"email": admin.email})
    assert me.body["platform_roles"] == ["admin"]

    assert call("GET", "/api/v1/admin/users", admin_ctx, lambda_context, query={"email": "no@x.example"}).status == 404
    assert call("GET", "/api/v1/admin/users", admin_ctx, lambda_context, query={"email": "nope"}).status == 422
    assert call("GET", "/api/v1/admin/users", admin_ctx, lambda_context).status == 422


def test_disabling_ends_every_session_and_enabling_lets_the_user_back(
    identity_env: str, owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    path = f"/api/v1/admin/users/{owner.user_id}"
    disabled = call("POST", f"{path}/disable", admin_ctx, lambda_context, body={"reason": "abuse report 77"})
    assert disabled.status == 200, disabled.body
    assert disabled.body["disabled"] is True
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is False
    [event] = events(identity_env, "user.disabled")
    assert event["data"] == {"user_id": owner.user_id, "reason": "abuse report 77"}
    assert event["metadata"]["correlation"]["user_id"] == admin.user_id
    # Disabling twice changes nothing more.
    assert call("POST", f"{path}/disable", admin_ctx, lambda_context, body={"reason": "again"}).status == 200
    assert len(events(identity_env, "user.disabled")) == 1
    # A disabled user cannot be impersonated.
    assert impersonate(admin_ctx, lambda_context, user_id=owner.user_id, reason=REASON).status == 409

    enabled = call("POST", f"{path}/enable", admin_ctx, lambda_context, body={"reason": "appeal accepted"})
    assert enabled.status == 200
    assert enabled.body["disabled"] is False
    [event] = events(identity_env, "user.enabled")
    assert event["data"] == {"user_id": owner.user_id, "reason": "appeal accepted"}
    # Old sessions stay ended: the user signs in again.
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is False


def test_user_routes_are_for_platform_admins_only(
    owner: SeededUser, admin: SeededUser, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    owner_ctx = context_for(owner.token, lambda_context)
    body = {"reason": "taking over"}
    for method, path, kwargs in [
        ("POST", f"/api/v1/admin/users/{admin.user_id}/disable", {"body": body}),
        ("POST", f"/api/v1/admin/users/{admin.user_id}/enable", {"body": body}),
        ("POST", "/api/v1/admin/users/usr_missing/disable", {"body": body}),
        ("GET", "/api/v1/admin/users", {"query": {"email": admin.email}}),
    ]:
        reply = call(method, path, owner_ctx, lambda_context, **kwargs)
        assert reply.status == 403, (path, reply.body)
        assert reply.body["missing_permissions"] == ["platform:users"]
    # Nor may an admin disable themselves; an unknown user is a 404.
    assert (
        call("POST", f"/api/v1/admin/users/{admin.user_id}/disable", admin_ctx, lambda_context, body=body).status == 403
    )
    assert call("POST", "/api/v1/admin/users/usr_missing/disable", admin_ctx, lambda_context, body=body).status == 404


def test_switching_workspace_keeps_the_impersonation_and_its_time_box(
    owner: SeededUser, db: IdentityDb, admin_ctx: TenantContext, lambda_context: Any
) -> None:
    from functions.identity.logic import workspaces

    second = workspaces.new_tenant_id()
    second_ctx = TenantContext(tenant_id=second, user_id=owner.user_id)
    workspaces.create(second_ctx, "Second", owner.user_id, db.workspace(second_ctx))

    reply = started(admin_ctx, lambda_context, owner, minutes=5)
    token = reply.body["token"]
    before = db.sessions.get(sessions.hash_token(token))
    assert before is not None
    ctx = context_for(token, lambda_context)
    switched = call(
        "POST", f"/api/v1/workspaces/{second}/switch", ctx, lambda_context, headers={"authorization": f"Bearer {token}"}
    )
    assert switched.status == 200, switched.body
    found = sessions.authenticate(switched.body["token"], db, POLICY)
    assert found is not None
    assert found.ctx.tenant_id == second
    assert found.ctx.impersonator is not None
    assert found.ctx.impersonator.user_id == admin_ctx.user_id
    assert found.session["expires_at"] == before["expires_at"]
    assert found.ctx.stepped_up_at is None

    # And an admin may enter any workspace the user belongs to directly.
    direct = impersonate(admin_ctx, lambda_context, user_id=owner.user_id, tenant_id=second, reason=REASON)
    assert direct.status == 200, direct.body
    assert direct.body["tenant_id"] == second
