"""Grant (or revoke) a platform role: the only way anyone becomes a platform admin or operator.

    python -m scripts.grant_platform_role --email ops@example.com --role admin
    python -m scripts.grant_platform_role --email ops@example.com --role admin --revoke
    python -m scripts.grant_platform_role --email x --role operator --endpoint-url http://127.0.0.1:4566 --table T

Platform roles live on the user (`platform_roles` in identity's table) and grant `platform:`
permissions that no workspace role can (`functions/identity/models/roles.py`). The change is
one transaction with its event (`user.platform_role_granted` / `..._revoked`, through the
outbox, in the user's home workspace). The table is `--table`, else `TABLE_NAME`; AWS
credentials and region come from the usual environment; `--endpoint-url` (or
`AWS_ENDPOINT_URL`) points at the local cloud. Granting a role the user has (or revoking one they
lack) changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.models.api import normalise_email
from functions.identity.models.roles import PLATFORM_ROLES
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import UserPlatformRoleGranted, UserPlatformRoleRevoked
from ninefold_core.tenant import TenantContext

OPERATOR = "system:grant-platform-role"


class GrantError(Exception):
    pass


def set_role(
    db: IdentityDb, email: str, role: str, *, revoke: bool = False, operator: str = OPERATOR
) -> tuple[list[str], bool]:
    """The user's platform roles afterwards, and whether anything changed."""
    if role not in PLATFORM_ROLES:
        raise GrantError(f"unknown platform role {role!r} (one of: {', '.join(sorted(PLATFORM_ROLES))})")
    try:
        address = normalise_email(email)
    except ValueError:
        raise GrantError(f"not a valid email address: {email!r}") from None
    user = db.users.by_email(address)
    if user is None:
        raise GrantError(f"no user has the address {address}")
    current = [str(r) for r in user.get("platform_roles") or []]
    wanted = [r for r in current if r != role] if revoke else sorted({*current, role})
    if sorted(wanted) == sorted(current):
        return current, False
    actor = TenantContext(tenant_id=str(user["home_tenant_id"]), user_id=operator, auth_method="system")
    event_type = UserPlatformRoleRevoked if revoke else UserPlatformRoleGranted
    event: Any = event_type(user_id=user["user_id"], role=role)
    # Conditional on the roles we read: a concurrent grant makes this one fail rather than undo it.
    expected: dict[str, Any] = {"platform_roles": user["platform_roles"]} if "platform_roles" in user else {}
    db.transact(
        [
            db.users.update_op(user["user_id"], {"platform_roles": wanted}, expected=expected or None),
            db.event_op(new_envelope(event, actor)),
        ]
    )
    return wanted, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--email", required=True, help="The user's address")
    parser.add_argument("--role", required=True, choices=sorted(PLATFORM_ROLES))
    parser.add_argument("--revoke", action="store_true", help="Take the role away instead")
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="Identity's table (default: $TABLE_NAME)")
    parser.add_argument("--endpoint-url", default=None, help="A local cloud's endpoint (default: $AWS_ENDPOINT_URL)")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("give --table or set TABLE_NAME")
    client = None
    if args.endpoint_url:
        import boto3

        client = boto3.client("dynamodb", endpoint_url=args.endpoint_url)
    try:
        roles, changed = set_role(IdentityDb(args.table, client), args.email, args.role, revoke=args.revoke)
    except GrantError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ConditionFailed:
        print("error: the user changed meanwhile; run the command again", file=sys.stderr)
        return 1
    verb = "revoked" if args.revoke else "granted"
    status = f"{args.role} {verb}" if changed else "nothing to change"
    print(f"{args.email}: {status}; platform roles now: {', '.join(roles) or '(none)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
