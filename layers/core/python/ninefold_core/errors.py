"""Typed domain errors, mapped to RFC 9457 problem details in one place.

Logic raises these; the HTTP layer (`ninefold_core.http`) turns them into
`application/problem+json` responses. Nobody matches on message text: the class
decides the status, the problem type and whether a caller may retry.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://docs.ninefold.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class DomainError(Exception):
    """Base for every error a caller is meant to see.

    `detail` is shown to the caller, so it must never contain secrets or
    another tenant's data.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str, *, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions or {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class BadRequest(DomainError):
    pass


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "The request did not validate"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    """Also what another tenant's object looks like: never reveal existence."""

    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"
    retryable = True

    def __init__(self, detail: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(DomainError):
    """A dependency is down (circuit open, provider outage). Safe to retry later."""

    status = 503
    code = "service-unavailable"
    title = "Temporarily unavailable"
    retryable = True


class ConfigurationError(Exception):
    """The function's environment is wrong: an operator problem, never a caller's."""
