"""Invitations: an emailed, expiring, revocable link that makes its recipient a member.

* The link carries 256 random bits (`nf_i_…`), stored only as SHA-256 under
  `P#invite-token#<hash>`; the invitation itself lives in the workspace's partition.
* Accepting proves the address (the link reached the mailbox), so:
  - without an account, the recipient chooses a password and gets a verified account, the
    membership and a session in the workspace, in one transaction;
  - with an account, they sign in first and accept as themselves (the signed-in address must
    be the invited one), and their session moves into the workspace.
* Revoking deletes the token row: the link stops working at once. Expiry is checked on use
  (TTL clean-up lags).
* Inviting an address that is already a member, or that has a pending invitation, is a 409.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.store import IdentityDb, WorkspaceStore
from functions.identity.logic import members, passwords, sessions
from functions.identity.logic.access import store_for
from functions.identity.logic.common import RequestInfo, digest, in_tenant, now_or
from functions.identity.logic.members import _refuse_escalation
from functions.identity.logic.sessions import IssuedSession, SessionPolicy
from functions.identity.logic.workspaces import member_row
from functions.identity.models.errors import InvalidToken
from functions.identity.models.workspaces import (
    AcceptInvitationNewAccount,
    CreateInvitation,
    Invitation,
    InvitationList,
    InvitationPreview,
)
from ninefold_core.dynamo import ConditionFailed, PlatformRepository
from ninefold_core.errors import Conflict, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import (
    EmailRequested,
    InvitationRevoked,
    MemberAdded,
    MemberInvited,
    UserEmailVerified,
    UserSignedUp,
)
from ninefold_core.tenant import TenantContext, require

TOKEN_PREFIX = "nf_i_"  # noqa: S105 (a public prefix, not a secret)
DAY = 24 * 3600
MAX_PENDING = 100


class AccountExists(Conflict):
    code = "account-exists"
    title = "Sign in to accept"

    def __init__(self) -> None:
        super().__init__("This address already has an account: sign in with it, then accept the invitation.")


def _tokens(db: IdentityDb) -> PlatformRepository:
    return PlatformRepository(db.table_name, "invite-token", db.users.repo.client)


def _status(item: Mapping[str, Any], now: float) -> str:
    status = str(item.get("status", "pending"))
    if status == "pending" and int(item["expires_at"]) <= now:
        return "expired"
    return status


def _invitation(item: Mapping[str, Any], now: float) -> Invitation:
    return Invitation(
        invitation_id=item["invitation_id"],
        email=item["email"],
        roles=list(item["roles"]),
        status=_status(item, now),
        invited_by=item["invited_by"],
        created_at=datetime.fromtimestamp(int(item["created_at"]), UTC),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]), UTC),
    )


def create(
    db: IdentityDb, ctx: TenantContext, body: CreateInvitation, *, app_url: str, now: float | None = None
) -> Invitation:
    require(ctx, "members:invite")
    now = now_or(now)
    store = db.workspace(ctx)
    _refuse_escalation(ctx, store, body.roles)
    workspace = store.get(consistent=True)
    if workspace is None:
        raise NotFound("This workspace does not exist.")
    existing = db.users.by_email(body.email)
    if existing is not None and store.member(existing["user_id"]) is not None:
        raise Conflict("This person is already a member.")
    pending = [i for i in store.invitations() if _status(i, now) == "pending"]
    if any(i["email"] == body.email for i in pending):
        raise Conflict("This address already has a pending invitation: revoke it to send a new one.")
    if len(pending) >= MAX_PENDING:
        raise Conflict(f"This workspace has {len(pending)} pending invitations, the most allowed.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation_id = "inv_" + uuid.uuid4().hex
    expires_at = int(now) + body.expires_in_days * DAY
    item = {
        "invitation_id": invitation_id,
        "email": body.email,
        "roles": body.roles,
        "status": "pending",
        "invited_by": ctx.user_id,
        "created_at": int(now),
        "expires_at": expires_at,
        "token_hash": digest(token),
    }
    inviter = db.users.get(ctx.user_id) or {}
    email = EmailRequested(
        to=body.email,
        template="invitation",
        variables={
            "link": f"{app_url.rstrip('/')}/app/accept-invitation#token={token}",
            "workspace_name": str(workspace["name"]),
            "inviter": str(inviter.get("name") or inviter.get("email") or "A teammate"),
        },
        idempotency_key=invitation_id,
    )
    event = MemberInvited(
        invitation_id=invitation_id,
        email=body.email,
        roles=body.roles,
        invited_by=ctx.user_id,
        expires_at=expires_at,
    )
    store.repo.transact(
        [
            store.repo.put_op(("INVITES",), f"invite#{invitation_id}", item, if_absent=True, ttl=expires_at + 30 * DAY),
            _tokens(db).put_op(
                (digest(token),),
                "invite",
                {"tenant_id": ctx.tenant_id, "invitation_id": invitation_id, "email": body.email},
                if_absent=True,
                ttl=expires_at,
            ),
            outbox_op(store.repo, new_envelope(event, ctx)),
            outbox_op(store.repo, new_envelope(email, ctx)),
        ]
    )
    return _invitation(item, now)


def listing(ctx: TenantContext, store: WorkspaceStore, *, now: float | None = None) -> InvitationList:
    now = now_or(now)
    items = sorted(store.invitations(), key=lambda i: (-int(i["created_at"]), i["invitation_id"]))
    return InvitationList(items=[_invitation(i, now) for i in items])


def get(ctx: TenantContext, store: WorkspaceStore, invitation_id: str, *, now: float | None = None) -> Invitation:
    item = store.invitation(invitation_id)
    if item is None:
        raise NotFound("No such invitation.")
    return _invitation(item, now_or(now))


def revoke(db: IdentityDb, ctx: TenantContext, invitation_id: str, *, now: float | None = None) -> None:
    require(ctx, "members:invite")
    now = now_or(now)
    store = db.workspace(ctx)
    item = store.invitation(invitation_id)
    if item is None:
        raise NotFound("No such invitation.")
    if _status(item, now) != "pending":
        raise Conflict(f"This invitation is {_status(item, now)}; only pending ones can be revoked.")
    try:
        store.repo.transact(
            [
                store.repo.update_op(
                    ("INVITES",),
                    f"invite#{invitation_id}",
                    {"status": "revoked", "revoked_at": int(now), "revoked_by": ctx.user_id},
                    expected={"status": "pending"},
                ),
                _tokens(db).delete_op((item["token_hash"],), "invite"),
                outbox_op(
                    store.repo,
                    new_envelope(InvitationRevoked(invitation_id=invitation_id, email=item["email"]), ctx),
                ),
            ]
        )
    except ConditionFailed:
        raise Conflict("This invitation changed meanwhile; reload and try again.") from None


# --- accepting -----------------------------------------------------------------------------


def _redeemable(db: IdentityDb, token: str, now: float) -> tuple[dict[str, Any], dict[str, Any], WorkspaceStore]:
    """(token row, invitation, workspace store) for a usable link; InvalidToken otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        raise InvalidToken()
    row = _tokens(db).get((digest(token),), "invite", consistent=True)
    if row is None:
        raise InvalidToken()
    store = store_for(db.table_name, str(row["tenant_id"]), db.users.repo.client)
    invitation = store.invitation(str(row["invitation_id"]))
    workspace = store.get(consistent=True)
    if (
        invitation is None
        or _status(invitation, now) != "pending"
        or workspace is None
        or workspace.get("status", "active") != "active"
    ):
        raise InvalidToken()
    return row, invitation, store


def preview(db: IdentityDb, token: str, *, now: float | None = None) -> InvitationPreview:
    now = now_or(now)
    _, invitation, store = _redeemable(db, token, now)
    workspace = store.get() or {}
    return InvitationPreview(
        workspace_name=str(workspace.get("name", "")),
        email=invitation["email"],
        roles=list(invitation["roles"]),
        expires_at=datetime.fromtimestamp(int(invitation["expires_at"]), UTC),
        account_exists=db.users.id_for_email(invitation["email"]) is not None,
    )


def _accept_ops(
    db: IdentityDb,
    store: WorkspaceStore,
    invitation: Mapping[str, Any],
    user: Mapping[str, Any],
    actor: TenantContext,
    now: float,
) -> list[dict[str, Any]]:
    workspace = store.get(consistent=True)
    if workspace is None:
        raise InvalidToken()
    joined = datetime.fromtimestamp(now, UTC).isoformat()
    member = member_row(user["user_id"], list(invitation["roles"]), joined_at=joined, user=user)
    added = MemberAdded(user_id=user["user_id"], roles=member["roles"], invitation_id=invitation["invitation_id"])
    return [
        *members.add_ops(db, actor, store, member, workspace=workspace),
        store.repo.update_op(
            ("INVITES",),
            f"invite#{invitation['invitation_id']}",
            {"status": "accepted", "accepted_at": int(now), "accepted_by": user["user_id"]},
            expected={"status": "pending"},
        ),
        _tokens(db).delete_op((invitation["token_hash"],), "invite", must_exist=True),
        outbox_op(store.repo, new_envelope(added, actor)),
    ]


def accept_new_account(
    db: IdentityDb,
    body: AcceptInvitationNewAccount,
    *,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float | None = None,
) -> IssuedSession:
    """Public: the recipient has no account yet; the link proves the address, so it is verified."""
    now = now_or(now)
    _, invitation, store = _redeemable(db, body.token, now)
    if db.users.id_for_email(invitation["email"]) is not None:
        raise AccountExists()
    tenant_id = store.tenant_id
    user_id = "usr_" + uuid.uuid4().hex[:20]
    actor = request.actor(tenant_id, user_id)
    user = {
        "user_id": user_id,
        "email": invitation["email"],
        "name": body.name,
        "password_hash": passwords.hash_password(body.password),
        "email_verified": True,
        "email_verified_at": int(now),
        "home_tenant_id": tenant_id,
        "last_tenant_id": tenant_id,
        "generation": 0,
        "disabled": False,
        "created_at": int(now),
        "password_changed_at": int(now),
    }
    issued, session_ops = sessions.open_ops(
        db,
        user_id=user_id,
        tenant_id=tenant_id,
        generation=0,
        policy=policy,
        request=request,
        now=now,
        created_because="invitation-accepted",
    )
    ops = [
        *db.users.create_ops(user),
        *_accept_ops(db, store, invitation, user, actor, now),
        outbox_op(
            store.repo,
            new_envelope(UserSignedUp(user_id=user_id, email=user["email"], workspace_id=tenant_id), actor),
        ),
        outbox_op(
            store.repo,
            new_envelope(UserEmailVerified(user_id=user_id, email=user["email"], method="invitation"), actor),
        ),
        *session_ops,
    ]
    try:
        db.transact(ops)
    except ConditionFailed:
        # The address got an account, or the invitation was used or revoked, meanwhile.
        raise InvalidToken() from None
    return issued


def accept_signed_in(
    db: IdentityDb,
    ctx: TenantContext,
    token: str,
    *,
    current_token: str | None,
    policy: SessionPolicy,
    request: RequestInfo,
    now: float | None = None,
) -> IssuedSession:
    """A signed-in person accepts an invitation to their own address; their session moves there."""
    now = now_or(now)
    _, invitation, store = _redeemable(db, token, now)
    user = db.users.get(ctx.user_id)
    if user is None or user["email"] != invitation["email"]:
        # Someone else's invitation looks like an invalid link: it reveals nothing.
        raise InvalidToken()
    if store.member(ctx.user_id) is not None:
        raise Conflict("You are already a member of this workspace.")
    actor = in_tenant(ctx, store.tenant_id)
    issued, session_ops = sessions.move_ops(
        db,
        ctx,
        store.tenant_id,
        current_token=current_token,
        policy=policy,
        request=request,
        now=now,
        because="invitation-accepted",
    )
    ops = [*_accept_ops(db, store, invitation, user, actor, now), *session_ops]
    try:
        db.transact(ops)
    except ConditionFailed:
        raise InvalidToken() from None
    return issued
