"""Identity's configuration: the authorizer reads `IdentityConfig`, the API `IdentityApiConfig`."""

from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig

DAY = 24 * 3600


class IdentityConfig(BaseConfig):
    """What the authorizer needs: how long sessions live."""

    session_idle_seconds: int = Field(default=7 * DAY, alias="SESSION_IDLE_SECONDS", gt=0)
    session_absolute_seconds: int = Field(default=30 * DAY, alias="SESSION_ABSOLUTE_SECONDS", gt=0)
    # The sliding idle window moves at most this often, so a busy session costs one write a minute.
    session_touch_seconds: int = Field(default=60, alias="SESSION_TOUCH_SECONDS", ge=0)
    # Off by default: every request is resolved afresh (logic/auth_cache.py says what turning it on costs).
    authorizer_cache_seconds: int = Field(default=0, alias="AUTHORIZER_CACHE_SECONDS", ge=0, le=300)


class IdentityApiConfig(IdentityConfig):
    """The API also sends links by email, so it needs the public address of the console."""

    app_url: str = Field(alias="APP_URL", min_length=1, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    verify_token_seconds: int = Field(default=DAY, alias="VERIFY_TOKEN_SECONDS", gt=0)
    reset_token_seconds: int = Field(default=3600, alias="RESET_TOKEN_SECONDS", gt=0)
    # A deleted workspace can be restored by an owner for this long; then it may be purged.
    workspace_grace_seconds: int = Field(default=30 * DAY, alias="WORKSPACE_GRACE_SECONDS", gt=0)
