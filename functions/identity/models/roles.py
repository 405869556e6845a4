"""Built-in roles and the permissions they grant.

Permission names are `<resource>:<action>`; `*` grants everything and
`<resource>:*` every action on a resource.
"""

from __future__ import annotations

from types import MappingProxyType

BUILT_IN_ROLES = MappingProxyType(
    {
        "owner": frozenset({"*"}),
        "admin": frozenset({"workspace:read", "workspace:update", "members:*", "audit:read", "jobs:*", "billing:read"}),
        "member": frozenset({"workspace:read", "jobs:read"}),
        "billing": frozenset({"workspace:read", "billing:*"}),
    }
)


def permissions_for(roles: tuple[str, ...]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= BUILT_IN_ROLES.get(role, frozenset())
    return frozenset(granted)
