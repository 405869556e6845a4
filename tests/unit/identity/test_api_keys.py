"""Workspace API keys: shown once and stored hashed, never more than their creator, and what the
authorizer makes of them (exactly their scopes; revoked, expired, forged and orphaned keys denied)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.identity.dal.api_keys import ApiKeyLookup, ApiKeyStore
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import api_keys
from functions.identity.logic.common import digest
from functions.identity.models.api_keys import ApiKeyCreated, CreateApiKey
from functions.identity.seed import SeededUser, seed_user
from ninefold_core.errors import Forbidden
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import authorize, call, context_for, events, scan

KEYS = "/api/v1/api-keys"


def owner_ctx(owner: SeededUser, *, now: float) -> TenantContext:
    """The owner, freshly signed in (stepped up) at `now`."""
    return TenantContext(
        tenant_id=owner.tenant_id,
        user_id=owner.user_id,
        permissions=frozenset({"*"}),
        roles=("owner",),
        session_id=owner.session_id,
        stepped_up_at=int(now),
    )


def make_key(
    db: IdentityDb, ctx: TenantContext, permissions: list[str], *, now: float, days: int = 90
) -> ApiKeyCreated:
    body = CreateApiKey(name="CI", permissions=permissions, expires_in_days=days)
    return api_keys.create(db, ctx, body, now=now)


def key_row(db: IdentityDb, tenant_id: str, key_id: str) -> dict[str, Any]:
    ctx = TenantContext(tenant_id=tenant_id, user_id="system:test", auth_method="system")
    row = ApiKeyStore(db.table_name, ctx).get(key_id)
    assert row is not None
    return row


# --- creation -------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(
    owner: SeededUser, identity_env: str, lambda_context: Any
) -> None:
    ctx = context_for(owner.token, lambda_context)
    body = {"name": " Deploy bot ", "permissions": ["workspace:read", "jobs:*"], "expires_in_days": 30}
    created = call("POST", KEYS, ctx, lambda_context, body=body)

    assert created.status == 201, created.body
    key = created.body["key"]
    assert key.startswith("nf_k_")
    assert len(key) > 50
    assert created.body["prefix"] == key[:13]
    assert created.body["key_id"].startswith("key_")
    assert (created.body["name"], created.body["permissions"]) == ("Deploy bot", ["jobs:*", "workspace:read"])
    assert created.body["created_by"] == owner.user_id
    assert created.body["last_used_at"] is None
    # The table holds the hash, never the key; the listing, the key's own page and the event neither.
    everything = json.dumps(scan(identity_env), default=str)
    assert key not in everything
    assert digest(key) in everything
    listed = call("GET", KEYS, ctx, lambda_context)
    assert [i["key_id"] for i in listed.body["items"]] == [created.body["key_id"]]
    one = call("GET", f"{KEYS}/{created.body['key_id']}", ctx, lambda_context)
    assert one.status == 200
    assert one.body["prefix"] == created.body["prefix"]
    for shown in (json.dumps(listed.body), json.dumps(one.body)):
        assert key not in shown
        assert digest(key) not in shown
        assert '"key"' not in shown
    (event,) = events(identity_env, "api_key.created")
    assert event["data"]["key_id"] == created.body["key_id"]
    assert event["data"]["created_by"] == owner.user_id
    assert key[14:] not in json.dumps(event)
    assert digest(key) not in json.dumps(event)


def test_a_key_never_holds_a_permission_its_creator_lacks(identity_env: str, lambda_context: Any) -> None:
    admin = seed_user(identity_env, workspace_name="Acme", user_id="usr_admin", roles=["admin"])
    ctx = context_for(admin.token, lambda_context)

    refused = call("POST", KEYS, ctx, lambda_context, body={"name": "x", "permissions": ["billing:manage"]})
    assert refused.status == 403
    assert refused.body["missing_permissions"] == ["billing:manage"]
    # An admin holds `members:*`, so may hand it on; `workspace:*` is more than they hold.
    assert call("POST", KEYS, ctx, lambda_context, body={"name": "x", "permissions": ["workspace:*"]}).status == 403
    assert call("POST", KEYS, ctx, lambda_context, body={"name": "x", "permissions": ["members:*"]}).status == 201
    assert len(events(identity_env, "api_key.created")) == 1


@pytest.mark.parametrize("scopes", [["workspace:fly"], ["*"], ["platform:operate"], []])
def test_an_uncatalogued_scope_is_a_422_naming_the_field(
    owner: SeededUser, lambda_context: Any, scopes: list[str]
) -> None:
    ctx = context_for(owner.token, lambda_context)
    reply = call("POST", KEYS, ctx, lambda_context, body={"name": "x", "permissions": scopes})
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["permissions"]


def test_creating_a_key_needs_manage_and_a_recent_step_up(owner: SeededUser, db: IdentityDb) -> None:
    now = time.time()
    body = CreateApiKey(name="x", permissions=["workspace:read"])
    stale = owner_ctx(owner, now=now - 11 * 60)
    with pytest.raises(Forbidden) as raised:
        api_keys.create(db, stale, body, now=now)
    assert raised.value.code == "step-up-required"
    # A key cannot mint keys, even one holding api_keys:manage.
    key = make_key(db, owner_ctx(owner, now=now), ["api_keys:manage", "workspace:read"], now=now)
    as_key = api_keys.authenticate(key.key, db, now=now)
    assert as_key is not None
    with pytest.raises(Forbidden) as raised:
        api_keys.create(db, as_key, body, now=now)
    assert raised.value.code == "step-up-required"
    reader = owner_ctx(owner, now=now).model_copy(update={"permissions": frozenset({"api_keys:read"})})
    with pytest.raises(Forbidden):
        api_keys.create(db, reader, body, now=now)


# --- the authorizer -------------------------------------------------------------------------


def test_the_authorizer_grants_a_key_exactly_its_scopes(owner: SeededUser, lambda_context: Any) -> None:
    ctx = context_for(owner.token, lambda_context)
    created = call("POST", KEYS, ctx, lambda_context, body={"name": "ro", "permissions": ["workspace:read"]}).body

    for headers in ({"authorization": f"Bearer {created['key']}"}, {"x-api-key": created["key"]}):
        result = authorize(lambda_context, headers=headers, method="PATCH")  # no CSRF: not a cookie
        assert result["isAuthorized"] is True, headers
        as_key = TenantContext.from_authorizer_context(result["context"])
        assert as_key.tenant_id == owner.tenant_id
        assert as_key.auth_method == "api_key"
        assert as_key.api_key_id == created["key_id"]
        assert as_key.user_id == f"api_key:{created['key_id']}"
        assert as_key.permissions == frozenset({"workspace:read"})
        assert as_key.roles == ()
        assert as_key.session_id is None
        assert as_key.stepped_up_at is None
        assert call("GET", "/api/v1/workspace", as_key, lambda_context).status == 200
        assert call("PATCH", "/api/v1/workspace", as_key, lambda_context, body={"name": "Nope"}).status == 403
        assert call("GET", KEYS, as_key, lambda_context).status == 403


def test_a_revoked_key_is_denied_at_once(owner: SeededUser, identity_env: str, lambda_context: Any) -> None:
    ctx = context_for(owner.token, lambda_context)
    created = call("POST", KEYS, ctx, lambda_context, body={"name": "ro", "permissions": ["workspace:read"]}).body
    assert authorize(lambda_context, token=created["key"])["isAuthorized"] is True

    assert call("DELETE", f"{KEYS}/{created['key_id']}", ctx, lambda_context).status == 204

    assert authorize(lambda_context, token=created["key"]) == {"isAuthorized": False}
    shown = call("GET", f"{KEYS}/{created['key_id']}", ctx, lambda_context).body
    assert shown["revoked_at"] is not None
    assert shown["revoked_by"] == owner.user_id
    assert ApiKeyLookup(identity_env).get(digest(created["key"])) is None
    # Revoking again changes nothing and says the same.
    assert call("DELETE", f"{KEYS}/{created['key_id']}", ctx, lambda_context).status == 204
    assert len(events(identity_env, "api_key.revoked")) == 1


def test_an_expired_key_is_denied(owner: SeededUser, db: IdentityDb) -> None:
    now = time.time()
    key = make_key(db, owner_ctx(owner, now=now), ["workspace:read"], now=now, days=1)
    assert api_keys.authenticate(key.key, db, now=now + 86400 - 1) is not None
    assert api_keys.authenticate(key.key, db, now=now + 86400) is None


def test_forged_and_ambiguous_keys_are_denied(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    now = time.time()
    key = make_key(db, owner_ctx(owner, now=now), ["workspace:read"], now=now).key
    public, secret = key[:13], key[14:]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for forged in (tampered, "nf_k_00000000_" + secret, public + "_" + secret[:-1], "nf_x" + key[4:], ""):
        assert api_keys.authenticate(forged, db, now=now) is None, forged
    # The authorizer: forged keys, a session token as a key, two different credentials at once.
    assert authorize(lambda_context, headers={"x-api-key": tampered}) == {"isAuthorized": False}
    assert authorize(lambda_context, headers={"x-api-key": owner.token}) == {"isAuthorized": False}
    assert authorize(lambda_context, token=owner.token, headers={"x-api-key": key}) == {"isAuthorized": False}
    # An offered key is judged as a key only: a bad one never falls back to the session cookie.
    assert authorize(lambda_context, headers={"x-api-key": "garbage"}, cookies={"__Host-nf_session": owner.token}) == {
        "isAuthorized": False
    }
    # Same key twice is fine; sessions still work as before.
    assert authorize(lambda_context, token=key, headers={"x-api-key": key})["isAuthorized"] is True
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is True


def test_a_key_of_a_deleted_workspace_is_denied(owner: SeededUser, db: IdentityDb) -> None:
    now = time.time()
    key = make_key(db, owner_ctx(owner, now=now), ["workspace:read"], now=now).key
    assert api_keys.authenticate(key, db, now=now) is not None
    workspace = db.workspace(owner_ctx(owner, now=now))
    workspace.repo.update(("WORKSPACE",), "workspace", {"status": "deleted"})
    assert api_keys.authenticate(key, db, now=now) is None


def test_last_used_is_recorded_at_most_once_a_minute(owner: SeededUser, db: IdentityDb) -> None:
    now = float(int(time.time()))
    key = make_key(db, owner_ctx(owner, now=now), ["workspace:read"], now=now)
    assert "last_used_at" not in key_row(db, owner.tenant_id, key.key_id)

    api_keys.authenticate(key.key, db, now=now + 1)
    assert key_row(db, owner.tenant_id, key.key_id)["last_used_at"] == now + 1
    api_keys.authenticate(key.key, db, now=now + 59)
    assert key_row(db, owner.tenant_id, key.key_id)["last_used_at"] == now + 1
    api_keys.authenticate(key.key, db, now=now + 61)
    assert key_row(db, owner.tenant_id, key.key_id)["last_used_at"] == now + 61
    # A request that read the old value writes nothing (a concurrent one already did).
    stale = {**key_row(db, owner.tenant_id, key.key_id), "last_used_at": now + 1}
    assert ApiKeyStore(db.table_name, owner_ctx(owner, now=now)).touch(stale, now=int(now) + 200) is False
    assert key_row(db, owner.tenant_id, key.key_id)["last_used_at"] == now + 61


def test_another_workspaces_key_answers_like_a_missing_one(
    owner: SeededUser, identity_env: str, lambda_context: Any
) -> None:
    ctx = context_for(owner.token, lambda_context)
    created = call("POST", KEYS, ctx, lambda_context, body={"name": "ro", "permissions": ["workspace:read"]}).body
    other = seed_user(identity_env, workspace_name="Other", user_id="usr_other")
    theirs = context_for(other.token, lambda_context)

    for method in ("GET", "DELETE"):
        mine = call(method, f"{KEYS}/{created['key_id']}", theirs, lambda_context)
        missing = call(method, f"{KEYS}/key_{'0' * 32}", theirs, lambda_context)
        assert mine.status == missing.status == 404
        assert {k: v for k, v in mine.body.items() if k != "instance"} == {
            k: v for k, v in missing.body.items() if k != "instance"
        }
    assert call("GET", KEYS, theirs, lambda_context).body == {"items": []}
    assert authorize(lambda_context, token=created["key"])["isAuthorized"] is True  # still A's, still working
