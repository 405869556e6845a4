"""API keys: what the routes accept and answer. The secret appears in exactly one answer, `ApiKeyCreated`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.identity.models.api import not_blank
from functions.identity.models.roles import PERMISSIONS, RESOURCES, is_known_permission

DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
# Every catalogued permission plus `<resource>:*` for each resource: more would repeat one.
MAX_SCOPES = len(PERMISSIONS) + len(RESOURCES)
KEY_ID_PATTERN = r"^key_[a-f0-9]{32}$"


class CreateApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the key is for (shown in listings).")
    permissions: list[str] = Field(
        min_length=1,
        max_length=MAX_SCOPES,
        description="The key's scopes: catalogued permissions (or `<resource>:*`), each held by the creator.",
    )
    expires_in_days: int = Field(
        default=DEFAULT_LIFETIME_DAYS,
        ge=1,
        le=MAX_LIFETIME_DAYS,
        description=f"Lifetime in days (default {DEFAULT_LIFETIME_DAYS}, at most {MAX_LIFETIME_DAYS}).",
    )

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return not_blank(value)

    @field_validator("permissions")
    @classmethod
    def _catalogued(cls, value: list[str]) -> list[str]:
        # The message names the rule, not the values: errors never echo the input back.
        if not all(is_known_permission(p) for p in value):
            raise ValueError("every scope must be a catalogued permission (`<resource>:<action>` or `<resource>:*`)")
        return sorted(set(value))


class ApiKeyInfo(BaseModel):
    """A key as listings show it: never the secret, only its first characters."""

    key_id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it (`nf_k_<public id>`).")
    permissions: list[str]
    created_by: str = Field(description="The user who created the key (it belongs to the workspace).")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(default=None, description="Updated at most once a minute.")
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(
        description="The key itself, shown this once: send it as `X-API-Key` or `Authorization: Bearer <key>`."
    )


class ApiKeyList(BaseModel):
    items: list[ApiKeyInfo]
