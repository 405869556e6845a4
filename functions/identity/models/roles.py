"""Built-in roles and the permissions they grant.

Permission names are `<resource>:<action>`; `*` grants everything and
`<resource>:*` every action on a resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

# Every permission a workspace role can grant, with what it allows. Custom roles are made of
# these (or of `<resource>:*`); a system adding a permission adds it here.
PERMISSIONS = MappingProxyType(
    {
        "workspace:read": "See the workspace",
        "workspace:update": "Rename the workspace",
        "workspace:delete": "Delete or restore the workspace",
        "members:read": "See members and teams",
        "members:invite": "Invite people and revoke invitations",
        "members:update": "Change members' roles",
        "members:remove": "Remove members",
        "roles:read": "See custom roles",
        "roles:manage": "Create, change and delete custom roles",
        "teams:manage": "Create, change and delete teams and their members",
        "api_keys:read": "See the workspace's API keys",
        "api_keys:manage": "Create and revoke API keys",
        "audit:read": "Read the audit log",
        "jobs:read": "See background job runs",
        "jobs:run": "Start and replay job runs",
        "jobs:cancel": "Cancel queued job runs",
        "billing:read": "See plans, invoices and usage",
        "billing:manage": "Change the plan and payment details",
    }
)
RESOURCES = frozenset(p.split(":", 1)[0] for p in PERMISSIONS)

BUILT_IN_ROLES = MappingProxyType(
    {
        "owner": frozenset({"*"}),
        "admin": frozenset(
            {
                "workspace:read",
                "workspace:update",
                "members:*",
                "roles:*",
                "teams:*",
                "api_keys:*",
                "audit:read",
                "jobs:*",
                "billing:read",
            }
        ),
        "member": frozenset({"workspace:read", "members:read", "roles:read", "jobs:read"}),
        "billing": frozenset({"workspace:read", "members:read", "billing:*"}),
    }
)


def is_known_permission(permission: str) -> bool:
    """A catalogued permission, or `<resource>:*` of a catalogued resource."""
    resource, _, action = permission.partition(":")
    return permission in PERMISSIONS or (action == "*" and resource in RESOURCES)


def permissions_for(roles: tuple[str, ...]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= BUILT_IN_ROLES.get(role, frozenset())
    return frozenset(granted)


# Platform roles live on the user (`platform_roles`), granted by operators outside any workspace
# (`python -m scripts.grant_platform_role`). They add `platform:` permissions that no workspace
# role can grant (see `ninefold_core.tenant.PLATFORM_NAMESPACE`).
PLATFORM_ROLES = MappingProxyType(
    {
        "admin": frozenset({"platform:operate", "platform:impersonate", "platform:users"}),
        "operator": frozenset({"platform:operate"}),
    }
)


def platform_permissions(user: Mapping[str, Any]) -> frozenset[str]:
    granted: set[str] = set()
    for role in user.get("platform_roles") or ():
        granted |= PLATFORM_ROLES.get(str(role), frozenset())
    return frozenset(granted)
