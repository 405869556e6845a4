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
        f"GET {_V1}/workspace",
        f"PATCH {_V1}/workspace",
        f"POST {_V1}/auth/sign-out",
        f"GET {_V1}/sessions",
        f"DELETE {_V1}/sessions/{{session_id}}",
        f"POST {_V1}/sessions/revoke-all",
    ),
    public={
        f"POST {_V1}/auth/sign-up": f"Sign-up {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/sign-in": f"Sign-in {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/verify-email": f"Verifying an address {_PROVEN_BY_LINK}.",
        f"POST {_V1}/auth/password-reset/request": f"A forgotten password {_CREDENTIAL_ROUTE}.",
        f"POST {_V1}/auth/password-reset/confirm": f"A password reset {_PROVEN_BY_LINK}.",
    },
)
