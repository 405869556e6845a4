"""What `make dev` seeds into a fresh local cloud: a demo workspace and its owner.

Called by the local cloud (`--seed scripts.dev_seed:seed`) once everything is
provisioned. Prints the demo credentials; they exist only in this process's
in-memory moto and die with it.
"""

from __future__ import annotations

from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.seed import SeededUser, seed_user
from scripts.grant_platform_role import set_role

DEMO_WORKSPACE = "Demo Workspace"
DEMO_USER = "usr_demo_owner"
DEMO_EMAIL = "demo@ninefold.test"
DEMO_PASSWORD = "ninefold-demo-password"  # noqa: S105 (a local demo account in an in-memory database)
ADMIN_WORKSPACE = "Platform Admin"
ADMIN_USER = "usr_demo_platform_admin"
ADMIN_EMAIL = "admin@ninefold.test"
ADMIN_PASSWORD = "ninefold-admin-password"  # noqa: S105 (a local demo account in an in-memory database)


def seed_demo(cloud: Any) -> SeededUser:
    table = cloud.resource("Ninefold-Identity/Table").name
    return seed_user(
        table,
        workspace_name=DEMO_WORKSPACE,
        user_id=DEMO_USER,
        client=cloud.client("dynamodb"),
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
    )


def seed_platform_admin(cloud: Any) -> SeededUser:
    """A platform admin (impersonation, disabling users) with their own workspace."""
    table = cloud.resource("Ninefold-Identity/Table").name
    client = cloud.client("dynamodb")
    admin = seed_user(
        table,
        workspace_name=ADMIN_WORKSPACE,
        user_id=ADMIN_USER,
        client=client,
        email=ADMIN_EMAIL,
        password=ADMIN_PASSWORD,
    )
    set_role(IdentityDb(table, client), ADMIN_EMAIL, "admin", operator="system:dev-seed")
    return admin


def seed(cloud: Any) -> None:
    demo = seed_demo(cloud)
    admin = seed_platform_admin(cloud)
    print(
        "\n".join(
            [
                "",
                f"  Demo workspace  {demo.workspace_name} ({demo.tenant_id})",
                f"  Demo owner      {demo.user_id}  sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}",
                f"  Session token   {demo.token}",
                f"  Platform admin  {admin.user_id}  sign in as {ADMIN_EMAIL} / {ADMIN_PASSWORD}  (console: Admin)",
                f"  Try it          curl -H 'Authorization: Bearer {demo.token}' {cloud.url}/api/v1/me",
                f"  Console         {cloud.url}/app/  (sign in as above, or use the token)",
                f"  Dev mailbox     {cloud.url}/_local/mailbox?to=<email>  (verification and reset links)",
                "",
            ]
        ),
        flush=True,
    )
