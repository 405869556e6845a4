"""Identity's routes in the isolation suite.

Sessions need no seeder: `GET /api/v1/sessions` lists the caller's sessions, and the default
discovery reads each item's `session_id`. What identity does have to say is below.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import api_keys as api_key_logic
from functions.identity.models.api_keys import CreateApiKey
from ninefold_core.tenant import TenantContext
from tests.support.isolation import HarnessError, Tenant, body_factory, exempt, ignore_self_caused, seeder, volatile

# The credential routes are public (stacks/routes.py says why for each): the caller has no
# tenant yet, or proves who they are with a one-time token in the body, so there is no
# tenant context through which B could reach A. Whether their answers let anyone tell that
# an address has an account (enumeration) is identity's own question, not tenant isolation.
NO_TENANT_YET = "public: the caller has no session, so no tenant to isolate from another (stacks/routes.py)"
BY_TOKEN = "public: the one-time token in the body, not a tenant, selects the account (stacks/routes.py)"

exempt("POST", "/api/v1/auth/sign-up", reason=f"{NO_TENANT_YET}; it creates a new user and workspace")
exempt("POST", "/api/v1/auth/sign-in", reason=f"{NO_TENANT_YET}; it exchanges a password for a session")
exempt(
    "POST",
    "/api/v1/auth/sign-in/two-factor",
    reason=f"{NO_TENANT_YET}; the single-use challenge in the body (from the password step), not a tenant, "
    "selects the account",
)
exempt("POST", "/api/v1/auth/password-reset/request", reason=f"{NO_TENANT_YET}; it emails a reset link")
exempt("POST", "/api/v1/auth/password-reset/confirm", reason=BY_TOKEN)
exempt("POST", "/api/v1/auth/verify-email", reason=BY_TOKEN)

# A session's idle window slides when it is used (at most once a minute), so A's own reads
# may move these between the look before and the look after another tenant's write.
volatile("last_seen_at", "idle_expires_at")
# The hourly usage report (a platform job on identity's clock) audits A's own API calls, this
# check's reads included, whenever the warp clock passes five past an hour: not B's doing.
ignore_self_caused(lambda item: isinstance(item, dict) and item.get("type") == "usage.api_calls_recorded")

# Platform-operator routes: they need `platform:` permissions, which only a platform role on the
# user grants (`scripts.grant_platform_role`), never a workspace role, not even the owner's "*".
# No tenant can call them (every workspace member gets the same 403, whatever the ids), so there
# is no tenant-to-tenant path to test; tests/integration/identity/test_admin.py proves a
# workspace owner gets 403 on each, and covers what admins may do.
PLATFORM_ONLY = "platform-operator route (platform:* permission): tenants cannot call it, a workspace owner gets 403"
exempt("POST", "/api/v1/admin/impersonations", reason=PLATFORM_ONLY)
exempt("GET", "/api/v1/admin/users", reason=PLATFORM_ONLY)
exempt("POST", "/api/v1/admin/users/{user_id}/disable", reason=PLATFORM_ONLY)
exempt("POST", "/api/v1/admin/users/{user_id}/enable", reason=PLATFORM_ONLY)
exempt(
    "POST",
    "/api/v1/admin/impersonations/end",
    reason="ends only the impersonation session it is called with; any other session gets 403 (test_admin.py)",
)


# Custom roles and teams: a fresh workspace has none, and `GET /api/v1/roles` lists the built-in
# roles first (the same ids, "owner"…, in every workspace), so these seeders make one custom role,
# and one team with the tenant's owner as its lead, and name only those.
exempt(
    "GET",
    "/api/v1/roles",
    reason="the listing starts with the built-in roles, whose ids (owner, admin, member, billing) are the same in "
    "every workspace; test_roles_and_teams.py checks that B's listing holds none of A's custom roles",
)


@seeder("/api/v1/roles/{role_id}")
def custom_roles(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    made = tenant.api.request("POST", "/api/v1/roles", json_body={"name": "Probe role", "permissions": ["jobs:read"]})
    if made.status != 201:
        raise HarnessError(f"seeding a custom role answered {made.status}")
    listed = tenant.api.request("GET", "/api/v1/roles").json["items"]
    return [{"role_id": r["role_id"]} for r in listed if not r["built_in"]]


@seeder("/api/v1/teams/{team_id}")
def teams(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    made = tenant.api.request("POST", "/api/v1/teams", json_body={"name": "Probe team", "roles": ["member"]})
    if made.status != 201:
        raise HarnessError(f"seeding a team answered {made.status}")
    team_id = made.json["team_id"]
    joined = tenant.api.request(
        "PUT", f"/api/v1/teams/{team_id}/members/{tenant.user_id}", json_body={"team_role": "lead"}
    )
    if joined.status != 200:
        raise HarnessError(f"seeding a team member answered {joined.status}")
    return [{"team_id": t["team_id"]} for t in tenant.api.request("GET", "/api/v1/teams").json["items"]]


# API keys: discovery needs A to own one, and creating one needs a step-up within the last ten
# minutes, which the suite's session-wide tenants may be older than: the seeder creates the key
# through identity's own logic (as a freshly stepped-up owner), then lists it through the API.
# A generated list of scope strings would be a 422, so creation gets a valid body too.
API_KEY_BODY = {"name": "Probe key", "permissions": ["workspace:read"], "expires_in_days": 30}


@seeder("/api/v1/api-keys/{key_id}")
def api_keys(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    db = IdentityDb(cloud.resource("Ninefold-Identity/Table").name, cloud.client("dynamodb"))
    owner = TenantContext(
        tenant_id=tenant.tenant_id,
        user_id=tenant.user_id,
        permissions=frozenset({"*"}),
        stepped_up_at=int(time.time()),
    )
    api_key_logic.create(db, owner, CreateApiKey.model_validate(API_KEY_BODY))
    listed = tenant.api.request("GET", "/api/v1/api-keys")
    if listed.status != 200:
        raise HarnessError(f"listing API keys answered {listed.status}")
    return [{"key_id": k["key_id"]} for k in listed.json["items"]]


@body_factory("POST", "/api/v1/api-keys")
def new_api_key(cloud: Any, tenant: Tenant, params: Mapping[str, str]) -> dict[str, Any]:
    return dict(API_KEY_BODY)


@seeder("/api/v1/invitations/{invitation_id}")
def invitations(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    """A pending invitation of the tenant's (to an address nobody else uses)."""
    email = f"invitee-{uuid.uuid4().hex[:12]}@example.com"
    sent = tenant.api.request("POST", "/api/v1/invitations", json_body={"email": email, "roles": ["member"]})
    if sent.status != 201:
        raise HarnessError(f"seeding invitations: POST /api/v1/invitations answered {sent.status}")
    listed = tenant.api.request("GET", "/api/v1/invitations")
    return [{"invitation_id": item["invitation_id"]} for item in listed.json["items"]]


exempt(
    "POST",
    "/api/v1/auth/invitations/preview",
    reason=f"{BY_TOKEN}; the token, not a session, names the invitation",
)
exempt(
    "POST",
    "/api/v1/auth/invitations/accept",
    reason=f"{BY_TOKEN}; it creates a new account and joins the invitation's workspace",
)
exempt("POST", "/api/v1/auth/email-change/confirm", reason=f"{BY_TOKEN}; the link sent to the new address")
