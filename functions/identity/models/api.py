from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RenameWorkspace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="The workspace's new display name.")

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value


class Workspace(BaseModel):
    id: str
    name: str
    created_at: datetime
    version: int


class Me(BaseModel):
    user_id: str
    tenant_id: str
    roles: list[str]
    permissions: list[str]
    session_id: str | None
    impersonated_by: str | None = None
