from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig


class IdentityConfig(BaseConfig):
    session_idle_seconds: int = Field(default=7 * 24 * 3600, alias="SESSION_IDLE_SECONDS", gt=0)
