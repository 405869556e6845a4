"""Identity's routes in the isolation suite.

Sessions need no seeder: `GET /api/v1/sessions` lists the caller's sessions, and the default
discovery reads each item's `session_id`. What identity does have to say is below.
"""

from __future__ import annotations

from tests.support.isolation import exempt, volatile

# The credential routes are public (stacks/routes.py says why for each): the caller has no
# tenant yet, or proves who they are with a one-time token in the body, so there is no
# tenant context through which B could reach A. Whether their answers let anyone tell that
# an address has an account (enumeration) is identity's own question, not tenant isolation.
NO_TENANT_YET = "public: the caller has no session, so no tenant to isolate from another (stacks/routes.py)"
BY_TOKEN = "public: the one-time token in the body, not a tenant, selects the account (stacks/routes.py)"

exempt("POST", "/api/v1/auth/sign-up", reason=f"{NO_TENANT_YET}; it creates a new user and workspace")
exempt("POST", "/api/v1/auth/sign-in", reason=f"{NO_TENANT_YET}; it exchanges a password for a session")
exempt("POST", "/api/v1/auth/password-reset/request", reason=f"{NO_TENANT_YET}; it emails a reset link")
exempt("POST", "/api/v1/auth/password-reset/confirm", reason=BY_TOKEN)
exempt("POST", "/api/v1/auth/verify-email", reason=BY_TOKEN)

# A session's idle window slides when it is used (at most once a minute), so A's own reads
# may move these between the look before and the look after another tenant's write.
volatile("last_seen_at", "idle_expires_at")
