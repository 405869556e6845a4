"""API models of workspaces, members and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.identity.models.api import Email, NewPassword, OneTimeToken, not_blank

WorkspaceStatus = Literal["active", "deleted"]
InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _distinct_roles(value: list[str]) -> list[str]:
    return list(dict.fromkeys(value))  # first occurrence wins, order kept


class CreateWorkspace(_Request):
    name: str = Field(min_length=1, max_length=100, description="The new workspace's display name.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return not_blank(value)


class WorkspaceSummary(BaseModel):
    """One of the caller's workspaces."""

    workspace_id: str
    name: str
    roles: list[str]
    status: WorkspaceStatus
    current: bool = Field(description="True for the workspace this session works in.")
    purge_at: datetime | None = Field(default=None, description="For a deleted workspace: when it goes for good.")


class WorkspaceList(BaseModel):
    items: list[WorkspaceSummary]


class WorkspaceDeletion(BaseModel):
    """The deleted workspace, and the caller's new session in another of their workspaces."""

    workspace_id: str
    purge_at: datetime
    switched_to: str = Field(description="The workspace the caller's session moved to.")
    token: str
    csrf_token: str
    session_id: str


class MemberRoles(_Request):
    roles: list[str] = Field(min_length=1, max_length=10, description="Built-in role names or custom role ids.")

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _distinct_roles(value)


class Member(BaseModel):
    user_id: str
    email: str | None = None
    name: str | None = None
    roles: list[str]
    teams: dict[str, str] = Field(default_factory=dict, description="team id → team role (lead or member)")
    joined_at: datetime
    you: bool = Field(description="True for the caller.")


class MemberList(BaseModel):
    items: list[Member]
    seats: int


class CreateInvitation(_Request):
    email: Email
    roles: list[str] = Field(default_factory=lambda: ["member"], min_length=1, max_length=10)
    expires_in_days: int = Field(default=7, ge=1, le=30)

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _distinct_roles(value)


class Invitation(BaseModel):
    invitation_id: str
    email: str
    roles: list[str]
    status: InvitationStatus
    invited_by: str
    created_at: datetime
    expires_at: datetime


class InvitationList(BaseModel):
    items: list[Invitation]


class InvitationToken(_Request):
    token: OneTimeToken


class InvitationPreview(BaseModel):
    """What the invitation link opens: whose workspace, for which address, and what to do next."""

    workspace_name: str
    email: str
    roles: list[str]
    expires_at: datetime
    account_exists: bool = Field(description="True: sign in as this address, then accept. False: choose a password.")


class AcceptInvitationNewAccount(_Request):
    token: OneTimeToken
    password: NewPassword
    name: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else not_blank(value)
