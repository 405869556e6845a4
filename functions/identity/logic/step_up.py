"""Step-up: sensitive actions need a session that proved its user again recently.

A session is stepped up when it is opened by signing in (the password, and the second factor
when enrolled, were just checked) and when its user re-authenticates on `POST /me/step-up`.
The authorizer carries the time as `TenantContext.stepped_up_at`. API keys and impersonation
sessions are never stepped up, so they can never perform these actions.

Sensitive actions: changing the email or password, enrolling or removing a second factor,
creating API keys, deleting a workspace.
"""

from __future__ import annotations

from functions.identity.logic.common import now_or
from ninefold_core.errors import Forbidden
from ninefold_core.tenant import TenantContext

STEP_UP_SECONDS = 10 * 60


class StepUpRequired(Forbidden):
    code = "step-up-required"
    title = "Confirm it is you"

    def __init__(self) -> None:
        super().__init__(
            "This action needs you to confirm your password (and second factor) again: POST /api/v1/me/step-up.",
            extensions={"max_age_seconds": STEP_UP_SECONDS},
        )


def is_recent(ctx: TenantContext, *, now: float | None = None, max_age: int = STEP_UP_SECONDS) -> bool:
    if ctx.stepped_up_at is None or ctx.impersonator is not None or ctx.auth_method != "session":
        return False
    return now_or(now) - ctx.stepped_up_at <= max_age


def require_recent(ctx: TenantContext, *, now: float | None = None, max_age: int = STEP_UP_SECONDS) -> None:
    """Raise a 403 `step-up-required` problem unless the session stepped up in the last `max_age` seconds."""
    if not is_recent(ctx, now=now, max_age=max_age):
        raise StepUpRequired()
