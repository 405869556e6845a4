"""The identity API's existing routes (me, workspace) and the authorizer's basic contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.seed import SeededUser, seed_user
from ninefold_core import aws
from ninefold_core.tenant import TenantContext
from tests.support.events import http_event
from tests.unit.identity.conftest import authorize as authorize_request
from tests.unit.identity.conftest import context_for as _context_for
from tests.unit.identity.conftest import events


def authorize(token: str | None, ctx: Any) -> dict[str, Any]:
    return authorize_request(ctx, token=token) if token is not None else authorize_request(ctx)


def context_for(owner: SeededUser, lambda_context: Any) -> TenantContext:
    return _context_for(owner.token, lambda_context)


def call(
    method: str, path: str, ctx: TenantContext | None, lambda_context: Any, **kwargs: Any
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    from functions.identity.handlers import api

    response = api.handler(http_event(method, path, ctx=ctx, **kwargs), lambda_context)
    return (
        response["statusCode"],
        response.get("headers", {}),
        json.loads(response["body"]) if response.get("body") else {},
    )


def test_the_authorizer_turns_a_session_into_the_owners_context(owner: SeededUser, lambda_context: Any) -> None:
    ctx = context_for(owner, lambda_context)
    assert (ctx.tenant_id, ctx.user_id, ctx.roles) == (owner.tenant_id, "usr_owner", ("owner",))
    assert ctx.can("workspace:update")


@pytest.mark.parametrize(
    "token",
    [None, "", "nf_s_forged-token-that-was-never-issued", "not-even-our-format", "Basic abc"],
)
def test_the_authorizer_denies_missing_and_forged_tokens(
    owner: SeededUser, lambda_context: Any, token: str | None
) -> None:
    assert authorize(token, lambda_context) == {"isAuthorized": False}


def test_the_authorizer_denies_expired_sessions(identity_env: str, lambda_context: Any) -> None:
    seeded = seed_user(identity_env, workspace_name="Old", user_id="usr_old")
    issued = sessions.issue(IdentityDb(identity_env), user_id="usr_old", tenant_id=seeded.tenant_id, now=0)
    assert authorize(issued.token, lambda_context) == {"isAuthorized": False}


def test_the_authorizer_denies_a_session_whose_member_was_removed(owner: SeededUser, lambda_context: Any) -> None:
    aws.client("dynamodb").delete_item(
        TableName=owner_table(), Key={"pk": {"S": f"T#{owner.tenant_id}#MEMBERS"}, "sk": {"S": "member#usr_owner"}}
    )
    assert authorize(owner.token, lambda_context) == {"isAuthorized": False}


def owner_table() -> str:
    return "ninefold-test-table"


def test_me_and_workspace_describe_the_caller(owner: SeededUser, lambda_context: Any) -> None:
    ctx = context_for(owner, lambda_context)
    status, _, me = call("GET", "/api/v1/me", ctx, lambda_context)
    assert status == 200
    assert (me["tenant_id"], me["email"], me["email_verified"], me["credential"]) == (
        owner.tenant_id,
        owner.email,
        True,
        "bearer",
    )
    status, _, workspace = call("GET", "/api/v1/workspace", ctx, lambda_context)
    assert (status, workspace["name"], workspace["version"]) == (200, "Acme", 1)


def test_renaming_bumps_the_version_and_writes_the_event_in_the_same_transaction(
    owner: SeededUser, lambda_context: Any
) -> None:
    ctx = context_for(owner, lambda_context)
    status, _, workspace = call("PATCH", "/api/v1/workspace", ctx, lambda_context, body={"name": "  Acme Labs "})
    assert (status, workspace["name"], workspace["version"]) == (200, "Acme Labs", 2)
    renamed = events(owner_table(), "workspace.renamed")
    assert [(e["data"]["new_name"], e["metadata"]["tenant_id"]) for e in renamed] == [("Acme Labs", owner.tenant_id)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"body": {"name": ""}}, "name"),
        ({"body": {"name": "   "}}, "name"),
        ({"body": {"name": "x" * 101}}, "name"),
        ({"body": {"name": "ok", "extra": 1}}, "extra"),
        ({"body": {}}, "name"),
    ],
)
def test_bad_input_gets_a_problem_naming_the_field_and_changes_nothing(
    owner: SeededUser, lambda_context: Any, kwargs: dict[str, Any], field: str
) -> None:
    ctx = context_for(owner, lambda_context)
    status, headers, problem = call("PATCH", "/api/v1/workspace", ctx, lambda_context, **kwargs)
    assert status == 422
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert call("GET", "/api/v1/workspace", ctx, lambda_context)[2]["version"] == 1


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", '"name"'])
def test_malformed_bodies_are_a_4xx_not_a_500(owner: SeededUser, lambda_context: Any, raw: str) -> None:
    ctx = context_for(owner, lambda_context)
    status, headers, _ = call("PATCH", "/api/v1/workspace", ctx, lambda_context, raw_body=raw)
    assert 400 <= status < 500
    assert headers["Content-Type"] == "application/problem+json"


def test_a_member_without_permission_gets_403(identity_env: str, lambda_context: Any) -> None:
    member = seed_user(identity_env, workspace_name="Beta", user_id="usr_member", roles=["member"])
    ctx = context_for(member, lambda_context)
    status, _, problem = call("PATCH", "/api/v1/workspace", ctx, lambda_context, body={"name": "Mine"})
    assert (status, problem["missing_permissions"]) == (403, ["workspace:update"])


def test_an_unknown_route_is_a_404_problem(owner: SeededUser, lambda_context: Any) -> None:
    status, headers, _ = call("GET", "/api/v1/nothing-here", context_for(owner, lambda_context), lambda_context)
    assert (status, headers["Content-Type"]) == (404, "application/problem+json")


def test_oversized_bodies_are_refused_before_parsing(owner: SeededUser, lambda_context: Any) -> None:
    ctx = context_for(owner, lambda_context)
    status, _, problem = call("PATCH", "/api/v1/workspace", ctx, lambda_context, raw_body="x" * 300_000)
    assert (status, problem["status"]) == (413, 413)
