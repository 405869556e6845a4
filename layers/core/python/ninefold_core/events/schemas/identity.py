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

EmailTemplate = Literal[
    "verify-email",
    "reset-password",
    "sign-up-attempt",
    "password-changed",
    "invitation",
    "change-email",
    "email-changed",
]
SessionRevokedReason = Literal[
    "sign-out",
    "revoked",
    "revoke-all",
    "rotated",
    "password-changed",
    "password-reset",
    "user-disabled",
    "workspace-switch",
]
MemberRemovedReason = Literal["removed", "left"]
SessionCreatedReason = Literal["sign-in", "rotated", "workspace-switch", "invitation-accepted", "impersonation"]


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


@event("workspace.deleted", producer="identity")
class WorkspaceDeleted(EventData):
    """A workspace was deleted: it grants nothing from now on and is purged after its grace window."""

    workspace_id: str
    purge_at: int = Field(description="Epoch seconds after which its data may be purged; restorable until then.")


@event("workspace.restored", producer="identity")
class WorkspaceRestored(EventData):
    """A deleted workspace was restored by an owner within its grace window."""

    workspace_id: str


@event("workspace.purged", producer="identity")
class WorkspacePurged(EventData):
    """A deleted workspace's grace window ended and identity deleted its data: every system that
    keeps data of this tenant deletes it now."""

    workspace_id: str


@event("workspace.seats_changed", producer="identity")
class WorkspaceSeatsChanged(EventData):
    """The number of members (seats) of a workspace changed: the billing signal for per-seat plans."""

    workspace_id: str
    seats: int = Field(ge=0)
    previous: int = Field(ge=0)


@event("member.invited", producer="identity")
class MemberInvited(EventData):
    """Someone was invited to join the workspace (the link went by email)."""

    invitation_id: str
    email: str
    roles: list[str]
    invited_by: str
    expires_at: int


@event("invitation.revoked", producer="identity")
class InvitationRevoked(EventData):
    """A pending invitation was withdrawn; its link no longer works."""

    invitation_id: str
    email: str


@event("member.added", producer="identity")
class MemberAdded(EventData):
    """A person joined the workspace (by accepting an invitation, or by creating it)."""

    user_id: str
    roles: list[str]
    invitation_id: str | None = None


@event("member.role_changed", producer="identity")
class MemberRoleChanged(EventData):
    """A member's workspace roles changed; the authorizer applies them from the next request."""

    user_id: str
    old_roles: list[str]
    new_roles: list[str]


@event("member.removed", producer="identity")
class MemberRemoved(EventData):
    """A member left or was removed; their sessions in this workspace stop working at once."""

    user_id: str
    reason: MemberRemovedReason


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
    method: Literal["verification-link", "password-reset", "invitation"] = "verification-link"


@event("user.email_changed", producer="identity")
class UserEmailChanged(EventData):
    """A user moved their account to a new address, proven by a link sent there; the old address
    was told."""

    user_id: str
    old_email: str
    new_email: str


@event("user.profile_updated", producer="identity")
class UserProfileUpdated(EventData):
    """A user changed how they are addressed."""

    user_id: str
    name: str | None = Field(default=None, max_length=100)


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
    reason: SessionCreatedReason = "sign-in"
    replaces_session_id: str | None = Field(default=None, description="The session this one rotated out, if any.")


@event("session.revoked", producer="identity")
class SessionRevoked(EventData):
    """A session ended before it expired: sign-out, revocation, rotation, password change, disabling."""

    session_id: str
    user_id: str
    reason: SessionRevokedReason


@event("impersonation.started", producer="identity")
class ImpersonationStarted(EventData):
    """A platform admin opened a time-boxed session as this user, in this workspace, for a stated reason."""

    impersonator_id: str
    user_id: str
    tenant_id: str
    session_id: str
    reason: str = Field(min_length=10, max_length=500)
    expires_at: int = Field(description="When the impersonation session ends at the latest (epoch seconds).")


@event("impersonation.ended", producer="identity")
class ImpersonationEnded(EventData):
    """The admin ended an impersonation session before its time box ran out."""

    impersonator_id: str
    user_id: str
    session_id: str


@event("user.enabled", producer="identity")
class UserEnabled(EventData):
    """A disabled user may sign in again (their old sessions stay ended)."""

    user_id: str
    reason: str = Field(min_length=1, max_length=500)


@event("user.platform_role_granted", producer="identity")
class UserPlatformRoleGranted(EventData):
    """An operator gave this user a platform role (`scripts.grant_platform_role`)."""

    user_id: str
    role: str


@event("user.platform_role_revoked", producer="identity")
class UserPlatformRoleRevoked(EventData):
    """An operator took a platform role away from this user."""

    user_id: str
    role: str


# --- custom roles and teams -----------------------------------------------------------------


@event("role.created", producer="identity")
class RoleCreated(EventData):
    """A custom role was created in the workspace, made of catalogued permissions."""

    role_id: str
    name: str
    permissions: list[str]


@event("role.updated", producer="identity")
class RoleUpdated(EventData):
    """A custom role's name, description or permissions changed (its holders' access changes at once)."""

    role_id: str
    name: str
    permissions: list[str]
    old_permissions: list[str] = Field(default_factory=list)


@event("role.deleted", producer="identity")
class RoleDeleted(EventData):
    """A custom role that nobody held was deleted."""

    role_id: str
    name: str


@event("team.created", producer="identity")
class TeamCreated(EventData):
    """A team was created; its `roles` are granted to every member of the team."""

    team_id: str
    name: str
    roles: list[str]


@event("team.updated", producer="identity")
class TeamUpdated(EventData):
    """A team's name, description or granted roles changed."""

    team_id: str
    name: str
    roles: list[str]
    old_roles: list[str] = Field(default_factory=list)


@event("team.deleted", producer="identity")
class TeamDeleted(EventData):
    """A team was deleted; its members lost the roles it granted."""

    team_id: str
    name: str


@event("team.member_added", producer="identity")
class TeamMemberAdded(EventData):
    """A workspace member joined a team (as `lead` or `member`)."""

    team_id: str
    user_id: str
    team_role: Literal["lead", "member"]


@event("team.member_removed", producer="identity")
class TeamMemberRemoved(EventData):
    """A member left a team (removed, or the team was deleted)."""

    team_id: str
    user_id: str
    reason: Literal["removed", "team-deleted"] = "removed"


@event("team.member_role_changed", producer="identity")
class TeamMemberRoleChanged(EventData):
    """A team member became a lead, or a lead became a plain member."""

    team_id: str
    user_id: str
    old_team_role: Literal["lead", "member"]
    new_team_role: Literal["lead", "member"]


@event("two_factor.enabled", producer="identity")
class TwoFactorEnabled(EventData):
    """A user confirmed an authenticator app (TOTP): signing in now needs a code as well as the password."""

    user_id: str
    method: Literal["totp"] = "totp"


@event("two_factor.disabled", producer="identity")
class TwoFactorDisabled(EventData):
    """A user turned two-factor authentication off (after stepping up); their recovery codes are void."""

    user_id: str


@event("two_factor.recovery_codes_regenerated", producer="identity")
class TwoFactorRecoveryCodesRegenerated(EventData):
    """A user got a new set of recovery codes; every earlier code stopped working."""

    user_id: str
    count: int = Field(ge=0)


@event("two_factor.recovery_code_used", producer="identity")
class TwoFactorRecoveryCodeUsed(EventData):
    """A recovery code was spent instead of an authenticator code (each works once)."""

    user_id: str
    purpose: Literal["sign-in", "step-up"]
    remaining: int = Field(ge=0, description="Recovery codes the user has left.")


@event("session.stepped_up", producer="identity")
class SessionSteppedUp(EventData):
    """A session proved its user again, allowing sensitive actions for the next few minutes.

    `method` says how: the password, an authenticator code, or a recovery code.
    """

    session_id: str
    user_id: str
    method: Literal["password", "totp", "recovery-code"]


@event("api_key.created", producer="identity")
class ApiKeyCreated(EventData):
    """A workspace got an API key. Never the key, nor its hash: its id and first characters only."""

    key_id: str
    name: str = Field(min_length=1, max_length=100)
    prefix: str = Field(description="The key's first characters (`nf_k_<public id>`), as listings show them.")
    permissions: list[str] = Field(description="The key's scopes, all held by its creator.")
    created_by: str = Field(description="The user who created the key.")
    expires_at: int = Field(description="When the key stops working, epoch seconds.")


@event("api_key.revoked", producer="identity")
class ApiKeyRevoked(EventData):
    """An API key was revoked: it stops working at once."""

    key_id: str
    name: str
    prefix: str
    revoked_by: str = Field(description="Who revoked it (a user, or `api_key:<key_id>` for a key).")


@event("usage.api_calls_recorded", producer="identity")
class ApiCallsRecorded(EventData):
    """API calls a workspace made in one UTC hour (authorized requests): the billing signal for
    usage-based plans. Reports are deltas: sum `calls` over a period; `total` is the hour's count so far."""

    workspace_id: str
    hour: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$", description="The UTC hour, e.g. 2026-12-02T09.")
    calls: int = Field(ge=1, description="Calls not reported before (a late call arrives in a later report).")
    total: int = Field(ge=1, description="The hour's count so far.")
