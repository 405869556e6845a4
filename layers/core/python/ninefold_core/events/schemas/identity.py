"""Events produced by identity & access.

Which tenant an identity event belongs to: events about a session go to the session's
workspace; events about a user (and the emails sent to them) go to the user's home
workspace, the one created at sign-up. No event carries a password, a session token or a
hash; the one secret that must travel is the one-time link inside `email.requested`, which
is declared `sensitive` so that whatever keeps events for people (the audit log) masks it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ninefold_core.events.catalog import event
from ninefold_core.events.envelope import EventData

EmailTemplate = Literal["verify-email", "reset-password", "sign-up-attempt", "password-changed"]
SessionRevokedReason = Literal[
    "sign-out",
    "revoked",
    "revoke-all",
    "rotated",
    "password-changed",
    "password-reset",
    "user-disabled",
]


@event("workspace.created", producer="identity")
class WorkspaceCreated(EventData):
    """A workspace (tenant) was created, with its first owner."""

    workspace_id: str
    name: str = Field(min_length=1, max_length=100)
    owner_id: str


@event("workspace.renamed", producer="identity")
class WorkspaceRenamed(EventData):
    """A workspace (tenant) got a new display name."""

    workspace_id: str
    old_name: str
    new_name: str = Field(min_length=1, max_length=100)


@event("email.requested", producer="identity")
class EmailRequested(EventData):
    """Identity asks the notification boundary to send a transactional email.

    `variables` fill the template; for `verify-email` and `reset-password` they hold the one-time
    link, so the field is sensitive: consumers that keep events for people mask it.
    """

    to: str = Field(min_length=3, max_length=254, description="The recipient's (normalised) address.")
    template: EmailTemplate
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="Values for the template (e.g. `link`). Sensitive.",
        json_schema_extra={"sensitive": True},
    )
    idempotency_key: str = Field(
        min_length=1, max_length=128, description="The sender delivers one email per key, however often it is asked."
    )


@event("user.signed_up", producer="identity")
class UserSignedUp(EventData):
    """A person created an account with email and password; their first workspace came with it."""

    user_id: str
    email: str
    workspace_id: str


@event("user.email_verified", producer="identity")
class UserEmailVerified(EventData):
    """A user proved they receive mail at their address (verification link or password reset)."""

    user_id: str
    email: str
    method: Literal["verification-link", "password-reset"] = "verification-link"


@event("user.password_changed", producer="identity")
class UserPasswordChanged(EventData):
    """A user's password changed; every session they had was revoked with it."""

    user_id: str
    method: Literal["change", "reset"]


@event("user.password_reset_requested", producer="identity")
class UserPasswordResetRequested(EventData):
    """Someone asked for a password reset link for this user's address (the link went by email)."""

    user_id: str


@event("user.disabled", producer="identity")
class UserDisabled(EventData):
    """A user may no longer sign in; every session they had was revoked."""

    user_id: str
    reason: str = Field(min_length=1, max_length=500)


@event("session.created", producer="identity")
class SessionCreated(EventData):
    """A user signed in (or a session was rotated) and got a new session in this workspace."""

    session_id: str
    user_id: str
    reason: Literal["sign-in", "rotated"] = "sign-in"
    replaces_session_id: str | None = Field(default=None, description="The session this one rotated out, if any.")


@event("session.revoked", producer="identity")
class SessionRevoked(EventData):
    """A session ended before it expired: sign-out, revocation, rotation, password change, disabling."""

    session_id: str
    user_id: str
    reason: SessionRevokedReason
