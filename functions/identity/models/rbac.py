"""Custom roles and teams: what their routes accept and answer.

Shapes are checked here (a 422 naming the field): permissions must be catalogued
(`models.roles.is_known_permission`), role references must look like a built-in role's name or a
custom role's id. Whether a referenced custom role exists, and whether the caller may grant it,
is the logic's business (`logic.roles`, `logic.teams`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from functions.identity.models.roles import BUILT_IN_ROLES, PERMISSIONS, RESOURCES, is_known_permission

ROLE_ID_PATTERN = r"^role_[a-f0-9]{20}$"
TEAM_ID_PATTERN = r"^team_[a-f0-9]{20}$"
ROLE_REF_PATTERN = r"^(owner|admin|member|billing|role_[a-f0-9]{20})$"
MAX_PERMISSIONS = 50
MAX_TEAM_ROLES = 20

TeamRole = Literal["lead", "member"]

# Every permission a custom role may hold: the catalogue and `<resource>:*` (never `*`, which is
# the owner's alone, nor `platform:` permissions, which no workspace role grants).
GRANTABLE = sorted([*PERMISSIONS, *(f"{r}:*" for r in RESOURCES)])


def _catalogued(value: str) -> str:
    if not is_known_permission(value):
        raise ValueError(f"{value!r} is not a permission in the catalogue (GET /api/v1/permissions)")
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


Permission = Annotated[
    str,
    Field(min_length=3, max_length=64, json_schema_extra={"enum": GRANTABLE}),
    AfterValidator(_catalogued),
]
RoleRef = Annotated[
    str,
    Field(
        pattern=ROLE_REF_PATTERN,
        description="A built-in role's name (owner, admin, member, billing) or a custom role's id.",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_name)]
Description = Annotated[str, Field(max_length=500)]
Permissions = Annotated[list[Permission], Field(min_length=1, max_length=MAX_PERMISSIONS), AfterValidator(_unique)]
TeamRoles = Annotated[list[RoleRef], Field(max_length=MAX_TEAM_ROLES), AfterValidator(_unique)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PermissionInfo(BaseModel):
    permission: str
    description: str


class BuiltInRoleInfo(BaseModel):
    role_id: str
    name: str
    permissions: list[str]


class PermissionCatalogue(BaseModel):
    permissions: list[PermissionInfo]
    built_in_roles: list[BuiltInRoleInfo]


class CreateRole(_Request):
    name: Name
    description: Description | None = None
    permissions: Permissions


class UpdateRole(_Request):
    name: Name | None = None
    description: Description | None = None
    permissions: Permissions | None = None


class Role(BaseModel):
    role_id: str = Field(description="`role_…` for a custom role; the name for a built-in one.")
    name: str
    description: str | None = None
    permissions: list[str]
    built_in: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class RoleList(BaseModel):
    items: list[Role]


class CreateTeam(_Request):
    name: Name
    description: Description | None = None
    roles: TeamRoles = Field(default_factory=list)


class UpdateTeam(_Request):
    name: Name | None = None
    description: Description | None = None
    roles: TeamRoles | None = None


class Team(BaseModel):
    team_id: str
    name: str
    description: str | None = None
    roles: list[str] = Field(description="Workspace roles granted to every member of the team.")
    created_at: datetime
    updated_at: datetime
    version: int


class TeamList(BaseModel):
    items: list[Team]


class SetTeamMember(_Request):
    team_role: TeamRole = Field(description="`lead` manages the team's membership; `member` only belongs.")


class TeamMember(BaseModel):
    user_id: str
    team_role: TeamRole
    added_at: datetime


class TeamMemberList(BaseModel):
    items: list[TeamMember]


def built_in_roles() -> list[BuiltInRoleInfo]:
    return [BuiltInRoleInfo(role_id=n, name=n, permissions=sorted(p)) for n, p in BUILT_IN_ROLES.items()]
