"""Platform administration's API models: impersonation and acting on users.

Only platform admins (a `platform_roles` entry on their user) reach these routes; bad input
still fails here, as a 422 naming each field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.identity.models.api import USER_ID_PATTERN, SessionIssued
from ninefold_core.tenant import TENANT_ID_PATTERN as TENANT_ID

TENANT_ID_PATTERN = TENANT_ID.pattern
MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 1, 60, 30

UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=USER_ID_PATTERN)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _trimmed(value: str) -> str:
    return value.strip()


class StartImpersonation(_Request):
    user_id: UserId = Field(description="The user to act as.")
    tenant_id: str | None = Field(
        default=None,
        pattern=TENANT_ID_PATTERN,
        description="A workspace the user belongs to (default: their home workspace).",
    )
    reason: str = Field(min_length=10, max_length=500, description="Why (a ticket, a request): shown in the audit log.")
    minutes: int = Field(
        default=DEFAULT_MINUTES, ge=MIN_MINUTES, le=MAX_MINUTES, description="How long the session lasts at most."
    )

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_trimmed(cls, value: object) -> object:
        return _trimmed(value) if isinstance(value, str) else value


class ImpersonationIssued(SessionIssued):
    """A session as `user_id`, opened by `impersonator_id`; browsers also get it as cookies."""

    impersonator_id: str
    reason: str


class ChangeUserState(_Request):
    reason: str = Field(min_length=1, max_length=500, description="Why: recorded in the event.")

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_trimmed(cls, value: object) -> object:
        return _trimmed(value) if isinstance(value, str) else value


class AdminUser(BaseModel):
    """A user as platform admins see them."""

    user_id: str
    email: str
    name: str | None = None
    disabled: bool
    disabled_at: datetime | None = None
    platform_roles: list[str]
    workspaces: list[str] = Field(description="Tenant ids of every workspace the user belongs to.")
    home_tenant_id: str
