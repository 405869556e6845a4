"""Each system's HTTP routes, as plain data: the CDK stacks declare exactly these.

Plain Python on purpose (no aws_cdk import), like `stacks.constants`: the runtime virtualenv
reads it too, and a unit test checks that a system's resolver serves exactly these routes and
no others (`tests/unit/identity/test_routes.py`), so the API Gateway routes and the code cannot
drift apart. A public route (no authorizer) says why it is public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from stacks.constants import API_VERSION_PREFIX


@dataclass(frozen=True)
class RouteTable:
    authorized: tuple[str, ...]
    public: dict[str, str] = field(default_factory=dict)  # route key -> why it is public

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.authorized, *self.public)


_V1 = API_VERSION_PREFIX
_CREDENTIAL_ROUTE = "it is how a caller without a credential gets one; JSON bodies only, throttled per address and IP"
_PROVEN_BY_LINK = "is proven by the emailed one-time token in the body (256 random bits, single use, expiring)"

IDENTITY: Final = RouteTable(
    authorized=(
        f"GET {_V1}/me",
        f"POST {_V1}/me/password",
        f"POST {_V1}/me/verify-email",
        f"PATCH {_V1}/me",
        f"POST {_V1}/me/email",
        f"GET {_V1}/workspace",
        f"PATCH {_V1}/workspace",
        f"POST {_V1}/auth/sign-out",
        f"GET {_V1}/sessions",
        f"DELETE {_V1}/sessions/{{session_id}}",
        f"POST {_V1}/sessions/revoke-all",
        # Custom roles and teams (the logic checks who may grant what, and team leads).
        f"GET {_V1}/permissions",
        f"GET {_V1}/roles",
        f"POST {_V1}/roles",
        f"GET {_V1}/roles/{{role_id}}",
        f"PATCH {_V1}/roles/{{role_id}}",
        f"DELETE {_V1}/roles/{{role_id}}",
        f"GET {_V1}/teams",
        f"POST {_V1}/teams",
        f"GET {_V1}/teams/{{team_id}}",
        f"PATCH {_V1}/teams/{{team_id}}",
        f"DELETE {_V1}/teams/{{team_id}}",
        f"GET {_V1}/teams/{{team_id}}/members",
        f"PUT {_V1}/teams/{{team_id}}/members/{{user_id}}",
        f"DELETE {_V1}/teams/{{team_id}}/members/{{user_id}}",
        # Workspaces, members and invitations (docs/identity.md).
        f"DELETE {_V1}/workspace",
        f"GET {_V1}/workspaces",
        f"POST {_V1}/workspaces",
        f"POST {_V1}/workspaces/{{workspace_id}}/switch",
        f"POST {_V1}/workspaces/{{workspace_id}}/restore",
        f"GET {_V1}/members",
        f"GET {_V1}/members/{{user_id}}",
        f"PATCH {_V1}/members/{{user_id}}",
        f"DELETE {_V1}/members/{{user_id}}",
        f"GET {_V1}/invitations",
        f"POST {_V1}/invitations",
        f"GET {_V1}/invitations/{{invitation_id}}",
        f"DELETE {_V1}/invitations/{{invitation_id}}",
        f"POST {_V1}/invitations/accept",
        # Two-factor and step-up (the caller's own; enrol, disable and recovery-codes need a recent step-up).
        f"GET {_V1}/me/two-factor",
        f"POST {_V1}/me/two-factor/enrol",
        f"POST {_V1}/me/two-factor/confirm",
        f"POST {_V1}/me/two-factor/disable",
        f"POST {_V1}/me/two-factor/recovery-codes",
        f"POST {_V1}/me/step-up",
        # API keys: listing and reading need api_keys:read; creating and revoking api_keys:manage.
        f"GET {_V1}/api-keys",
        f"POST {_V1}/api-keys",
        f"GET {_V1}/api-keys/{{key_id}}",
        f"DELETE {_V1}/api-keys/{{key_id}}",
        # Platform admins only (platform:impersonate / platform:users); workspace members get a 403.
        f"POST {_V1}/admin/impersonations",
        f"POST {_V1}/admin/impersonations/end",
        f"GET {_V1}/admin/users",
        f"POST {_V1}/admin/users/{{user_id}}/disable",
        f"POST {_V1}/admin/users/{{user_id}}/enable",
    ),
    public={
        f"POST {_V1}/auth/sign-up": f"Sign-up {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/sign-in": f"Sign-in {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/sign-in/two-factor": (
            "Finishing a two-factor sign-in is how a caller without a credential gets one; it is proven by the "
            "single-use challenge the right password answered (256 random bits, 5 minutes) and a second factor, "
            "and throttled like sign-in."
        ),
        f"POST {_V1}/auth/verify-email": f"Verifying an address {_PROVEN_BY_LINK}.",
        f"POST {_V1}/auth/password-reset/request": f"A forgotten password {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/password-reset/confirm": f"A password reset {_PROVEN_BY_LINK}.",
        f"POST {_V1}/auth/email-change/confirm": f"Moving to a new address {_PROVEN_BY_LINK}.",
        f"POST {_V1}/auth/invitations/preview": f"Reading an invitation {_PROVEN_BY_LINK}.",
        f"POST {_V1}/auth/invitations/accept": f"Accepting an invitation with a new account {_PROVEN_BY_LINK}.",
    },
)
