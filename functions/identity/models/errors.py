"""Identity's own problem types (mapped to RFC 9457 by the core HTTP layer, by class)."""

from __future__ import annotations

from ninefold_core.errors import Forbidden, InvalidInput, Unauthorized


def _field_error(field: str, message: str, kind: str) -> dict[str, list[dict[str, str]]]:
    return {"errors": [{"field": field, "message": message, "type": kind}]}


class InvalidToken(InvalidInput):
    """A one-time link that is unknown, used, expired or for another purpose: all look the same."""

    code = "invalid-token"
    title = "The link is invalid or has expired"

    def __init__(self) -> None:
        message = "This link is invalid, was already used or has expired. Ask for a new one."
        super().__init__(message, extensions=_field_error("token", message, "invalid_token"))


class InvalidCredentials(Unauthorized):
    """Wrong password and unknown address give this same answer."""

    code = "invalid-credentials"
    title = "Wrong email or password"

    def __init__(self) -> None:
        super().__init__("The email address or the password is wrong.")


class WrongCurrentPassword(InvalidInput):
    code = "invalid-input"

    def __init__(self) -> None:
        message = "The current password is wrong."
        super().__init__(message, extensions=_field_error("current_password", message, "wrong_password"))


class UnacceptablePassword(InvalidInput):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, extensions=_field_error(field, message, "value_error"))


class AccountDisabled(Forbidden):
    """Only said to someone who proved the password: it reveals nothing to a guesser."""

    code = "account-disabled"
    title = "Account disabled"

    def __init__(self) -> None:
        super().__init__("This account has been disabled. Contact support.")
