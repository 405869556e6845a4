"""Identity's API models: what the routes accept and answer.

Bad input fails here, before any logic runs, as a 422 problem naming each field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from functions.identity.logic.passwords import MAX_LENGTH, MIN_LENGTH, policy_problem

MAX_EMAIL_LENGTH = 254
# Every user id is `usr_` + an opaque suffix (sign-up: 20 hex; seeds and tests: readable names).
USER_ID_PATTERN = r"^usr_[A-Za-z0-9_-]{1,64}$"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_email(value: str) -> str:
    """Trimmed and case-folded: one address, one account, however it is typed."""
    normalised = value.strip().casefold()
    if len(normalised) > MAX_EMAIL_LENGTH or not _EMAIL.match(normalised):
        raise ValueError("not a valid email address")
    return normalised


def _acceptable_password(value: str) -> str:
    problem = policy_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(normalise_email)]
NewPassword = Annotated[
    str,
    Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="8 to 128 characters, not a common password."),
    AfterValidator(_acceptable_password),
]
# A password being checked, not chosen: any length we could have accepted, nothing longer.
Password = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
OneTimeToken = Annotated[str, Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


def _not_email(value: str, info: ValidationInfo) -> str:
    email = info.data.get("email")
    problem = policy_problem(value, email=email if isinstance(email, str) else None)
    if problem:
        raise ValueError(problem)
    return value


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def not_blank(value: str) -> str:
    """The value without surrounding whitespace; a value that is only whitespace is refused."""
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _trimmed(value: str | None) -> str | None:
    return None if value is None else not_blank(value)


class RenameWorkspace(_Request):
    name: str = Field(min_length=1, max_length=100, description="The workspace's new display name.")

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return not_blank(value)


class SignUpRequest(_Request):
    email: Email
    password: NewPassword
    name: str | None = Field(default=None, min_length=1, max_length=100, description="How to address the person.")
    workspace_name: str | None = Field(
        default=None, min_length=1, max_length=100, description="Name of the first workspace (default: 'My workspace')."
    )

    @field_validator("password")
    @classmethod
    def _password_is_not_the_email(cls, value: str, info: ValidationInfo) -> str:
        return _not_email(value, info)

    @field_validator("name", "workspace_name")
    @classmethod
    def _names_are_trimmed(cls, value: str | None) -> str | None:
        return _trimmed(value)


class SignInRequest(_Request):
    email: Email
    password: Password


class VerifyEmailRequest(_Request):
    token: OneTimeToken


class PasswordResetRequest(_Request):
    email: Email


class PasswordResetConfirm(_Request):
    token: OneTimeToken
    new_password: NewPassword


class ChangePasswordRequest(_Request):
    current_password: Password
    new_password: NewPassword


class UpdateProfile(_Request):
    name: str = Field(min_length=1, max_length=100, description="How to address the person.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return not_blank(value)


class ChangeEmailRequest(_Request):
    new_email: Email = Field(description="The address to move to; a link goes there to prove it.")


class ConfirmEmailChange(_Request):
    token: OneTimeToken


class Accepted(BaseModel):
    """The same answer whoever asked: nothing here reveals whether an account exists."""

    status: Literal["accepted"] = "accepted"
    detail: str


class EmailVerified(BaseModel):
    email_verified: bool


class PasswordReset(BaseModel):
    status: Literal["password-reset"] = "password-reset"
    detail: str = "Your password was changed and every session was signed out. Sign in with the new password."


class SessionIssued(BaseModel):
    """A new session. Browsers also get it as the `__Host-nf_session` cookie (with `nf_csrf`)."""

    session_id: str
    token: str = Field(description="Send as `Authorization: Bearer <token>` (API clients).")
    csrf_token: str = Field(description="Send as `X-CSRF-Token` on writes made with the session cookie.")
    user_id: str
    tenant_id: str
    email_verified: bool
    expires_at: datetime = Field(description="Absolute end of the session.")
    idle_expires_at: datetime = Field(description="End of the session unless it is used before then.")


class SessionInfo(BaseModel):
    session_id: str
    tenant_id: str
    current: bool = Field(description="True for the session this request was made with.")
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_expires_at: datetime
    ip_address: str | None = None
    user_agent: str | None = None


class SessionList(BaseModel):
    items: list[SessionInfo]


class Workspace(BaseModel):
    id: str
    name: str
    created_at: datetime
    version: int


class Me(BaseModel):
    user_id: str
    tenant_id: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    roles: list[str]
    permissions: list[str]
    session_id: str | None
    credential: Literal["bearer", "cookie"] | None = None
    impersonated_by: str | None = None
    impersonation_reason: str | None = Field(default=None, description="Why the admin is acting as this user.")
    impersonation_expires_at: datetime | None = Field(default=None, description="When the impersonation ends.")
