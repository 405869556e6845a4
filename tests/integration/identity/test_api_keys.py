"""Workspace API keys through the front door of the local cloud (the synthesized templates):

create a key with a fresh (stepped-up) session → call the API with it, in both headers → a route
outside its scopes is refused → revoke it → the next request with it is denied.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.cloud import Api, SignedInUser, _sign_in, requires_system

pytestmark = requires_system("identity")


def fresh_owner(cloud: Any) -> SignedInUser:
    """A new workspace owner, just signed in: creating keys needs a step-up in the last ten minutes."""
    return _sign_in(cloud, "Keys Inc", f"usr_keys_{uuid.uuid4().hex[:8]}")


def test_create_use_and_revoke_an_api_key(cloud: Any) -> None:
    owner = fresh_owner(cloud)
    body = {"name": "Reporting", "permissions": ["workspace:read"], "expires_in_days": 7}

    # Given a key created through the API (shown once)
    created = owner.api.post("/api/v1/api-keys", body)
    assert created.status == 201, created.text
    key, key_id = created.json["key"], created.json["key_id"]
    listed = owner.api.get("/api/v1/api-keys")
    assert [k["key_id"] for k in listed.json["items"]] == [key_id]
    assert key not in listed.text

    # When a program calls the API with it, as a bearer token or in X-API-Key
    as_bearer = Api(cloud.url, key)
    as_header = Api(cloud.url)
    for reply in (as_bearer.get("/api/v1/workspace"), as_header.get("/api/v1/workspace", headers={"X-API-Key": key})):
        assert reply.status == 200, reply.text
        assert reply.json["id"] == owner.tenant_id

    # Then a route outside its scopes is refused, and the key cannot mint keys
    renamed = as_bearer.patch("/api/v1/workspace", {"name": "Hijacked"})
    assert renamed.status == 403
    assert renamed.json["missing_permissions"] == ["workspace:update"]
    assert as_bearer.post("/api/v1/api-keys", body).status == 403
    # and its use is recorded
    assert owner.api.get(f"/api/v1/api-keys/{key_id}").json["last_used_at"] is not None

    # When the owner revokes it, the next request with it is denied
    assert owner.api.delete(f"/api/v1/api-keys/{key_id}").status == 204
    assert as_bearer.get("/api/v1/workspace").status in (401, 403)
    assert as_header.get("/api/v1/workspace", headers={"X-API-Key": key}).status in (401, 403)
    assert owner.api.get(f"/api/v1/api-keys/{key_id}").json["revoked_at"] is not None


def test_a_forged_key_is_denied_and_another_workspaces_key_is_a_404(cloud: Any) -> None:
    owner, other = fresh_owner(cloud), fresh_owner(cloud)
    created = owner.api.post("/api/v1/api-keys", {"name": "CI", "permissions": ["workspace:read"]})
    assert created.status == 201, created.text
    key, key_id = created.json["key"], created.json["key_id"]

    forged = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert Api(cloud.url, forged).get("/api/v1/workspace").status in (401, 403)
    assert other.api.get(f"/api/v1/api-keys/{key_id}").status == 404
    assert other.api.delete(f"/api/v1/api-keys/{key_id}").status == 404
    assert Api(cloud.url, key).get("/api/v1/workspace").status == 200
