"""Platform admins through the front door of the local cloud: tenants are refused every admin
route; an admin finds a user, impersonates them (audited with the whole actor chain), ends it,
disables and enables them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.seed import SeededUser, seed_user
from scripts.grant_platform_role import set_role
from tests.support.cloud import Api, requires_system

PASSWORD = "correct horse battery staple"
REASON = "Ticket 1234: the customer cannot see their workspace"


def _seed(cloud: Any, name: str) -> SeededUser:
    table = cloud.resource("Ninefold-Identity/Table").name
    user_id = f"usr_{name}_{uuid.uuid4().hex[:8]}"
    return seed_user(
        table,
        workspace_name=f"{name} workspace",
        user_id=user_id,
        client=cloud.client("dynamodb"),
        email=f"{user_id.replace('_', '-')}@example.com",
        password=PASSWORD,
    )


@pytest.fixture
def customer(cloud: Any) -> SeededUser:
    return _seed(cloud, "customer")


@pytest.fixture
def admin(cloud: Any) -> SeededUser:
    seeded = _seed(cloud, "admin")
    # What `python -m scripts.grant_platform_role --email … --role admin` does.
    set_role(
        IdentityDb(cloud.resource("Ninefold-Identity/Table").name, cloud.client("dynamodb")), seeded.email, "admin"
    )
    return seeded


def test_a_workspace_owner_gets_403_on_every_platform_route(
    cloud: Any, customer: SeededUser, admin: SeededUser
) -> None:
    owner = Api(cloud.url, customer.token)
    assert "*" in owner.get("/api/v1/me").json["permissions"]
    body = {"reason": "trying to take over"}
    for method, path, json_body in [
        ("POST", "/api/v1/admin/impersonations", {"user_id": admin.user_id, "reason": REASON}),
        ("POST", "/api/v1/admin/impersonations/end", None),
        ("GET", f"/api/v1/admin/users?email={admin.email}", None),
        ("POST", f"/api/v1/admin/users/{admin.user_id}/disable", body),
        ("POST", f"/api/v1/admin/users/{admin.user_id}/enable", body),
        ("POST", "/api/v1/admin/users/usr_nobody/disable", body),
    ]:
        reply = owner.request(method, path, json_body=json_body)
        assert reply.status == 403, (path, reply.text)
        assert reply.headers["Content-Type"] == "application/problem+json"
    assert Api(cloud.url, admin.token).get("/api/v1/me").status == 200  # the admin is untouched


@requires_system("safety")
def test_impersonation_is_time_boxed_audited_and_ends(cloud: Any, customer: SeededUser, admin: SeededUser) -> None:
    ops = Api(cloud.url, admin.token)
    found = ops.get(f"/api/v1/admin/users?email={customer.email}")
    assert found.status == 200, found.text
    assert found.json["workspaces"] == [customer.tenant_id]

    started = ops.post("/api/v1/admin/impersonations", {"user_id": customer.user_id, "reason": REASON, "minutes": 10})
    assert started.status == 200, started.text
    assert started.cookie("__Host-nf_session") == started.json["token"]
    acting = Api(cloud.url, started.json["token"])

    me = acting.get("/api/v1/me").json
    assert (me["user_id"], me["tenant_id"]) == (customer.user_id, customer.tenant_id)
    assert (me["impersonated_by"], me["impersonation_reason"]) == (admin.user_id, REASON)
    assert not [p for p in me["permissions"] if p.startswith("platform:")]
    assert acting.get(f"/api/v1/admin/users?email={customer.email}").status == 403

    assert acting.patch("/api/v1/workspace", {"name": "Fixed by support"}).status == 200
    cloud.wait_idle(timeout=30)
    items = Api(cloud.url, customer.token).get("/api/v1/audit-events?limit=100").json["items"]
    [renamed] = [i for i in items if i["type"] == "workspace.renamed"]
    assert renamed["actor_chain"] == [admin.user_id, customer.user_id]
    assert (renamed["actor_id"], renamed["impersonator_id"]) == (customer.user_id, admin.user_id)
    [start] = [i for i in items if i["type"] == "impersonation.started"]
    assert (start["data"]["impersonator_id"], start["data"]["reason"]) == (admin.user_id, REASON)

    ended = acting.post("/api/v1/admin/impersonations/end")
    assert ended.status == 204, ended.text
    assert acting.get("/api/v1/me").status == 403
    assert Api(cloud.url, customer.token).get("/api/v1/me").status == 200  # the customer's own session lives on


def test_disabling_a_user_ends_their_sessions_and_enabling_lets_them_back(
    cloud: Any, anonymous: Api, customer: SeededUser, admin: SeededUser
) -> None:
    ops = Api(cloud.url, admin.token)
    disabled = ops.post(f"/api/v1/admin/users/{customer.user_id}/disable", {"reason": "abuse report 99"})
    assert disabled.status == 200, disabled.text
    assert disabled.json["disabled"] is True
    assert Api(cloud.url, customer.token).get("/api/v1/me").status == 403
    signed_in = anonymous.post("/api/v1/auth/sign-in", {"email": customer.email, "password": PASSWORD})
    assert signed_in.status == 403
    assert signed_in.json["type"].endswith("account-disabled")

    enabled = ops.post(f"/api/v1/admin/users/{customer.user_id}/enable", {"reason": "appeal accepted"})
    assert enabled.status == 200, enabled.text
    assert enabled.json["disabled"] is False
    assert anonymous.post("/api/v1/auth/sign-in", {"email": customer.email, "password": PASSWORD}).status == 200


def test_make_dev_seeds_a_platform_admin_who_can_sign_in(cloud: Any, anonymous: Api) -> None:
    from scripts import dev_seed

    seeded = dev_seed.seed_platform_admin(cloud)
    signed_in = anonymous.post(
        "/api/v1/auth/sign-in", {"email": dev_seed.ADMIN_EMAIL, "password": dev_seed.ADMIN_PASSWORD}
    )
    assert signed_in.status == 200, signed_in.text
    me = Api(cloud.url, signed_in.json["token"]).get("/api/v1/me").json
    assert me["user_id"] == seeded.user_id
    assert {"platform:impersonate", "platform:users"} <= set(me["permissions"])
