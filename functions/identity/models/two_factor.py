"""Two-factor authentication and step-up: what the routes accept and answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from functions.identity.models.api import Password
from ninefold_core.errors import InvalidInput, Unauthorized


def _totp_code(value: str) -> str:
    code = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{6}", code):
        raise ValueError("enter the 6 digits your authenticator app shows")
    return code


def _recovery_code(value: str) -> str:
    code = re.sub(r"[\s-]", "", value).lower()
    if not re.fullmatch(r"[a-z0-9]{10}", code):
        raise ValueError("a recovery code looks like xxxx-xxxx-xx")
    return code


TotpCode = Annotated[
    str,
    Field(min_length=6, max_length=12, description="The 6 digits an authenticator app shows (spaces are ignored)."),
    AfterValidator(_totp_code),
]
RecoveryCode = Annotated[
    str,
    Field(min_length=10, max_length=20, description="One of the recovery codes, e.g. `abcd-efgh-jk` (single use)."),
    AfterValidator(_recovery_code),
]
Challenge = Annotated[str, Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


SecondFactorMethod = Literal["totp", "recovery-code"]
SECOND_FACTOR_METHODS: tuple[SecondFactorMethod, ...] = ("totp", "recovery-code")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TwoFactorEnrolment(BaseModel):
    """A pending enrolment: shown once, not active until confirmed with a code."""

    status: Literal["pending"] = "pending"
    secret: str = Field(description="Base32 secret to type into an authenticator app. Shown only now.")
    otpauth_uri: str = Field(description="The same secret as an `otpauth://totp/...` URI (for a QR code).")
    digits: int = 6
    period: int = 30
    algorithm: Literal["SHA1"] = "SHA1"


class ConfirmTwoFactorRequest(_Request):
    code: TotpCode


class RecoveryCodes(BaseModel):
    """Recovery codes, shown once: each signs in (or steps up) once instead of an authenticator code."""

    recovery_codes: list[str]


class TwoFactorStatus(BaseModel):
    enabled: bool
    recovery_codes_left: int


class StepUpRequest(_Request):
    """Exactly one proof. With two-factor on, `code` or `recovery_code` (the password alone is not enough)."""

    password: Password | None = None
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StepUpRequest:
        given = [name for name in ("password", "code", "recovery_code") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of password, code or recovery_code")
        return self


class SteppedUp(BaseModel):
    stepped_up_at: datetime
    expires_at: datetime = Field(description="Until when sensitive actions are allowed without stepping up again.")


class TwoFactorRequired(BaseModel):
    """The password was right, but the account has two-factor on: no session yet.

    Send the challenge with a code (or a recovery code) to `POST /api/v1/auth/sign-in/two-factor`.
    """

    status: Literal["two-factor-required"] = "two-factor-required"
    challenge: str = Field(description="Single use, for this sign-in only.")
    expires_at: datetime
    methods: list[SecondFactorMethod] = Field(default_factory=lambda: list(SECOND_FACTOR_METHODS))


class TwoFactorSignInRequest(_Request):
    challenge: Challenge
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TwoFactorSignInRequest:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code or recovery_code")
        return self


# --- problems ------------------------------------------------------------------------------


def _field_error(field: str, message: str, kind: str) -> dict[str, list[dict[str, str]]]:
    return {"errors": [{"field": field, "message": message, "type": kind}]}


class WrongProof(InvalidInput):
    """A wrong (or already used) password, authenticator code or recovery code."""

    code = "invalid-input"

    MESSAGES: ClassVar[dict[str, str]] = {
        "password": "The password is wrong.",
        "code": "The code is wrong or was already used. Wait for the next one.",
        "recovery_code": "The recovery code is wrong or was already used.",
    }

    def __init__(self, field: str) -> None:
        message = self.MESSAGES.get(field, "That did not check out.")
        self.field = field
        super().__init__(message, extensions=_field_error(field, message, "wrong_" + field))


class SecondFactorRequired(InvalidInput):
    """With two-factor on, stepping up needs the second factor, not the password."""

    code = "second-factor-required"
    title = "Use your authenticator app"

    def __init__(self) -> None:
        message = "Two-factor authentication is on: confirm with a code from your app or a recovery code."
        super().__init__(message, extensions=_field_error("code", message, "missing"))


class ChallengeInvalid(Unauthorized):
    """A sign-in challenge that is unknown, expired, already used, or whose user changed meanwhile."""

    code = "invalid-challenge"
    title = "Sign in again"

    def __init__(self) -> None:
        super().__init__("This sign-in attempt has expired or was already used. Sign in again with your password.")
