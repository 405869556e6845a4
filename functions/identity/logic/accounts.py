"""Accounts: sign-up, email verification, sign-in, password change and reset, disabling.

Enumeration resistance: sign-up and reset requests answer the same whether or not the address
has an account (an existing owner gets a "someone tried to sign up" email instead), and a
sign-in with an unknown address is verified against a dummy hash, counted by the same
throttles and refused with the same problem as a wrong password.

Every state change commits with its events (outbox) in one transaction. Emails leave as
`email.requested` events, in the same transaction as the token they carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from functions.identity.config import IdentityApiConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import passwords, sessions, step_up, tokens, two_factor, workspaces
from functions.identity.logic.common import RequestInfo, in_tenant, now_or, signed_in_user
from functions.identity.logic.sessions import IssuedSession, SessionPolicy
from functions.identity.logic.throttle import EMAILS, SIGN_IN_ACCOUNT, SIGN_IN_IP, Throttle, email_subject
from functions.identity.models.api import (
    Accepted,
    ChangePasswordRequest,
    EmailVerified,
    Me,
    PasswordReset,
    PasswordResetConfirm,
    PasswordResetRequest,
    SignInRequest,
    SignUpRequest,
    VerifyEmailRequest,
)
from functions.identity.models.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    UnacceptablePassword,
    WrongCurrentPassword,
)
from functions.identity.models.two_factor import TwoFactorRequired
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import NotFound, Unauthorized
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import (
    EmailRequested,
    EmailTemplate,
    UserDisabled,
    UserEmailVerified,
    UserEnabled,
    UserPasswordChanged,
    UserPasswordResetRequested,
    UserSignedUp,
)
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

SIGN_UP_ACCEPTED = "Check your inbox: we sent a link to confirm your address."
RESET_ACCEPTED = "If an account uses this address, we sent it a link to choose a new password."
VERIFY_ACCEPTED = "If your address still needs confirming, we sent a new link."


@dataclass(frozen=True)
class AccountSettings:
    app_url: str
    verify_token_seconds: int = 24 * 3600
    reset_token_seconds: int = 3600
    sessions: SessionPolicy = field(default_factory=SessionPolicy)

    @classmethod
    def from_config(cls, config: IdentityApiConfig) -> AccountSettings:
        return cls(
            app_url=config.app_url.rstrip("/"),
            verify_token_seconds=config.verify_token_seconds,
            reset_token_seconds=config.reset_token_seconds,
            sessions=SessionPolicy.from_config(config),
        )

    def link(self, page: str, token: str) -> str:
        # In the fragment: browsers never send it to a server, so it stays out of access logs and Referer.
        return f"{self.app_url}/app/{page}#token={token}"


def email_op(
    db: IdentityDb, actor: TenantContext, *, to: str, template: EmailTemplate, variables: Mapping[str, str]
) -> dict[str, Any]:
    data = EmailRequested(to=to, template=template, variables=dict(variables), idempotency_key=uuid.uuid4().hex)
    return db.event_op(new_envelope(data, actor))


def event_op(db: IdentityDb, data: Any, actor: TenantContext) -> dict[str, Any]:
    return db.event_op(new_envelope(data, actor))


def home_tenant(user: Mapping[str, Any]) -> str:
    return str(user["home_tenant_id"])


# --- sign-up and verification --------------------------------------------------------------


def sign_up(
    db: IdentityDb, body: SignUpRequest, *, settings: AccountSettings, request: RequestInfo, now: float | None = None
) -> Accepted:
    now = now_or(now)
    Throttle(db.throttles).claim(EMAILS, email_subject(body.email), now=now)
    existing = db.users.by_email(body.email)
    if existing is None:
        try:
            _create_account(db, body, settings=settings, request=request, now=now)
        except ConditionFailed:
            # Someone registered the address between our read and our write.
            existing = db.users.by_email(body.email)
    if existing is not None:
        # Same cost as creating an account (one hash), different email, same answer.
        passwords.hash_password(body.password)
        actor = request.actor(home_tenant(existing))
        db.transact(
            [
                email_op(
                    db,
                    actor,
                    to=existing["email"],
                    template="sign-up-attempt",
                    variables={
                        "sign_in_link": f"{settings.app_url}/app/sign-in",
                        "reset_link": f"{settings.app_url}/app/forgot-password",
                    },
                )
            ]
        )
    return Accepted(detail=SIGN_UP_ACCEPTED)


def _create_account(
    db: IdentityDb, body: SignUpRequest, *, settings: AccountSettings, request: RequestInfo, now: float
) -> None:
    user_id = "usr_" + uuid.uuid4().hex[:20]
    tenant_id = workspaces.new_tenant_id()
    actor = request.actor(tenant_id, user_id)
    user = {
        "user_id": user_id,
        "email": body.email,
        "name": body.name,
        "password_hash": passwords.hash_password(body.password),
        "email_verified": False,
        "home_tenant_id": tenant_id,
        "generation": 0,
        "disabled": False,
        "created_at": int(now),
        "password_changed_at": int(now),
    }
    _, workspace_ops = workspaces.create_ops(
        actor, body.workspace_name or workspaces.DEFAULT_NAME, user_id, db.workspace(actor), owner=user
    )
    token = tokens.issue(
        db, tokens.VERIFY_EMAIL, user_id=user_id, email=body.email, now=now, lifetime=settings.verify_token_seconds
    )
    db.transact(
        [
            *db.users.create_ops(user),
            *workspace_ops,
            token.op,
            event_op(db, UserSignedUp(user_id=user_id, email=body.email, workspace_id=tenant_id), actor),
            email_op(
                db,
                actor,
                to=body.email,
                template="verify-email",
                variables={
                    "link": settings.link("verify-email", token.token),
                },
            ),
        ]
    )
    logger.info("account created", extra={"user_id": user_id, "tenant_id": tenant_id})


def verify_email(
    db: IdentityDb, body: VerifyEmailRequest, *, request: RequestInfo, now: float | None = None
) -> EmailVerified:
    now = now_or(now)
    record, consume = tokens.redeem(db, tokens.VERIFY_EMAIL, body.token, now=now)
    user = db.users.get(record["user_id"])
    if user is None or user["email"] != record["email"]:
        raise InvalidToken()
    ops = [consume]
    if not user.get("email_verified"):
        actor = request.actor(home_tenant(user), user["user_id"])
        ops += [
            db.users.update_op(user["user_id"], {"email_verified": True, "email_verified_at": int(now)}),
            event_op(db, UserEmailVerified(user_id=user["user_id"], email=user["email"]), actor),
        ]
    try:
        db.transact(ops)
    except ConditionFailed:
        raise InvalidToken() from None
    return EmailVerified(email_verified=True)


def resend_verification(
    db: IdentityDb, ctx: TenantContext, *, settings: AccountSettings, now: float | None = None
) -> Accepted:
    now = now_or(now)
    user = signed_in_user(db, ctx.user_id)
    Throttle(db.throttles).claim(EMAILS, email_subject(user["email"]), now=now)
    if not user.get("email_verified"):
        token = tokens.issue(
            db,
            tokens.VERIFY_EMAIL,
            user_id=user["user_id"],
            email=user["email"],
            now=now,
            lifetime=settings.verify_token_seconds,
        )
        actor = in_tenant(ctx, home_tenant(user))
        db.transact(
            [
                token.op,
                email_op(
                    db,
                    actor,
                    to=user["email"],
                    template="verify-email",
                    variables={
                        "link": settings.link("verify-email", token.token),
                    },
                ),
            ]
        )
    return Accepted(detail=VERIFY_ACCEPTED)


# --- sign-in -------------------------------------------------------------------------------


def sign_in(
    db: IdentityDb,
    body: SignInRequest,
    *,
    settings: AccountSettings,
    request: RequestInfo,
    previous_token: str | None = None,
    now: float | None = None,
) -> tuple[IssuedSession | TwoFactorRequired, dict[str, Any]]:
    """A new session for the right password; the session presented with the request, if any, is rotated out.

    With two-factor on, the right password answers a challenge instead (`two_factor.complete_sign_in`
    opens the session), and the account's throttle counter stays claimed until the second factor passes.
    """
    now = now_or(now)
    throttle = Throttle(db.throttles)
    ip = request.ip_address or "unknown"
    account = email_subject(body.email)
    throttle.check(SIGN_IN_IP, ip, now=now)
    throttle.claim(SIGN_IN_ACCOUNT, account, now=now)
    user = db.users.by_email(body.email)
    if not passwords.verify_password(user.get("password_hash") if user else None, body.password):
        throttle.fail(SIGN_IN_IP, ip, now=now)
        raise InvalidCredentials()
    assert user is not None  # verify_password is False without a user
    if user.get("disabled"):
        raise AccountDisabled()
    if two_factor.is_enabled(user):
        rehashed = passwords.hash_password(body.password) if passwords.needs_rehash(user["password_hash"]) else None
        return two_factor.challenge(db, user, account=account, new_password_hash=rehashed, now=now), user

    changes: dict[str, Any] = {}
    if passwords.needs_rehash(user["password_hash"]):
        changes["password_hash"] = passwords.hash_password(body.password)
    issued, ops = workspaces.sign_in_ops(
        db,
        user,
        generation=int(user.get("generation", 0)),
        policy=settings.sessions,
        request=request,
        now=now,
        previous_token=previous_token,
        changes=changes,
    )
    ops.append(throttle.clear_op(SIGN_IN_ACCOUNT, account))
    try:
        db.transact(ops)
    except ConditionFailed:
        raise InvalidCredentials() from None
    return issued, user


# --- passwords -----------------------------------------------------------------------------


def change_password(
    db: IdentityDb,
    ctx: TenantContext,
    body: ChangePasswordRequest,
    *,
    settings: AccountSettings,
    request: RequestInfo,
    current_token: str | None,
    now: float | None = None,
) -> IssuedSession:
    """New password, every session ended, and a fresh session for this device (rotation)."""
    now = now_or(now)
    user = signed_in_user(db, ctx.user_id)
    if two_factor.is_enabled(user):
        step_up.require_recent(ctx, now=now)
    throttle = Throttle(db.throttles)
    account = email_subject(user["email"])
    throttle.claim(SIGN_IN_ACCOUNT, account, now=now)
    if not passwords.verify_password(user.get("password_hash"), body.current_password):
        raise WrongCurrentPassword()
    problem = passwords.policy_problem(body.new_password, email=user["email"])
    if problem:
        raise UnacceptablePassword("new_password", problem)

    generation = int(user.get("generation", 0))
    current = db.sessions.get(sessions.hash_token(current_token)) if current_token else None
    if current is not None and current["session_id"] != ctx.session_id:
        current = None
    issued, session_ops = sessions.open_ops(
        db,
        user_id=user["user_id"],
        tenant_id=ctx.tenant_id,
        generation=generation + 1,
        policy=settings.sessions,
        request=request,
        now=now,
        replaces=current,
        replaced_because="password-changed",
    )
    home = in_tenant(ctx, home_tenant(user))
    ops = [
        db.users.update_op(
            user["user_id"],
            {
                "password_hash": passwords.hash_password(body.new_password),
                "password_changed_at": int(now),
                "generation": generation + 1,
            },
            expected={"generation": generation},
        ),
        event_op(db, UserPasswordChanged(user_id=user["user_id"], method="change"), home),
        email_op(
            db,
            home,
            to=user["email"],
            template="password-changed",
            variables={
                "reset_link": f"{settings.app_url}/app/forgot-password",
            },
        ),
        throttle.clear_op(SIGN_IN_ACCOUNT, account),
        *session_ops,
    ]
    try:
        db.transact(ops)
    except ConditionFailed:
        raise Unauthorized("This session has ended; sign in again.") from None
    sessions.clean_up(db, user["user_id"], below_generation=generation + 1, reason="password-changed", actor=ctx)
    return issued


def request_password_reset(
    db: IdentityDb,
    body: PasswordResetRequest,
    *,
    settings: AccountSettings,
    request: RequestInfo,
    now: float | None = None,
) -> Accepted:
    now = now_or(now)
    Throttle(db.throttles).claim(EMAILS, email_subject(body.email), now=now)
    user = db.users.by_email(body.email)
    if user is not None and not user.get("disabled"):
        token = tokens.issue(
            db,
            tokens.RESET_PASSWORD,
            user_id=user["user_id"],
            email=user["email"],
            now=now,
            lifetime=settings.reset_token_seconds,
        )
        actor = request.actor(home_tenant(user))
        db.transact(
            [
                token.op,
                event_op(db, UserPasswordResetRequested(user_id=user["user_id"]), actor),
                email_op(
                    db,
                    actor,
                    to=user["email"],
                    template="reset-password",
                    variables={
                        "link": settings.link("reset-password", token.token),
                    },
                ),
            ]
        )
    return Accepted(detail=RESET_ACCEPTED)


def reset_password(
    db: IdentityDb, body: PasswordResetConfirm, *, request: RequestInfo, now: float | None = None
) -> PasswordReset:
    """Choose a new password with a reset link: every session ends; the link also proves the address."""
    now = now_or(now)
    record, consume = tokens.redeem(db, tokens.RESET_PASSWORD, body.token, now=now)
    user = db.users.get(record["user_id"])
    if user is None or user.get("disabled") or user["email"] != record["email"]:
        raise InvalidToken()
    problem = passwords.policy_problem(body.new_password, email=user["email"])
    if problem:
        raise UnacceptablePassword("new_password", problem)
    generation = int(user.get("generation", 0))
    actor = request.actor(home_tenant(user), user["user_id"])
    changes: dict[str, Any] = {
        "password_hash": passwords.hash_password(body.new_password),
        "password_changed_at": int(now),
        "generation": generation + 1,
    }
    ops = [consume, event_op(db, UserPasswordChanged(user_id=user["user_id"], method="reset"), actor)]
    if not user.get("email_verified"):
        changes.update(email_verified=True, email_verified_at=int(now))
        ops.append(
            event_op(
                db, UserEmailVerified(user_id=user["user_id"], email=user["email"], method="password-reset"), actor
            )
        )
    ops += [
        db.users.update_op(user["user_id"], changes, expected={"generation": generation}),
        Throttle(db.throttles).clear_op(SIGN_IN_ACCOUNT, email_subject(user["email"])),
    ]
    try:
        db.transact(ops)
    except ConditionFailed:
        raise InvalidToken() from None
    sessions.clean_up(db, user["user_id"], below_generation=generation + 1, reason="password-reset", actor=actor)
    return PasswordReset()


# --- administration ------------------------------------------------------------------------


def disable_user(db: IdentityDb, user_id: str, *, reason: str, actor: TenantContext, now: float | None = None) -> None:
    """Stop a user from signing in and end every session they have (platform operators)."""
    now = now_or(now)
    user = db.users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    generation = int(user.get("generation", 0))
    home = in_tenant(actor, home_tenant(user))
    db.transact(
        [
            db.users.update_op(
                user_id,
                {"disabled": True, "disabled_at": int(now), "generation": generation + 1},
                expected={"generation": generation},
            ),
            event_op(db, UserDisabled(user_id=user_id, reason=reason), home),
        ]
    )
    sessions.clean_up(db, user_id, below_generation=generation + 1, reason="user-disabled", actor=actor)


def enable_user(db: IdentityDb, user_id: str, *, reason: str, actor: TenantContext, now: float | None = None) -> None:
    """Let a disabled user sign in again (platform operators). Their old sessions stay ended."""
    now = now_or(now)
    user = db.users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    generation = int(user.get("generation", 0))
    db.transact(
        [
            db.users.update_op(
                user_id,
                {"disabled": False, "enabled_at": int(now)},
                expected={"generation": generation, "disabled": True},
            ),
            event_op(db, UserEnabled(user_id=user_id, reason=reason), in_tenant(actor, home_tenant(user))),
        ]
    )


# --- the caller ----------------------------------------------------------------------------


def me(db: IdentityDb, ctx: TenantContext) -> Me:
    user = db.users.get(ctx.user_id) or {}
    return Me(
        user_id=ctx.user_id,
        tenant_id=ctx.tenant_id,
        email=user.get("email"),
        email_verified=bool(user.get("email_verified")),
        name=user.get("name"),
        roles=list(ctx.roles),
        permissions=sorted(ctx.permissions),
        session_id=ctx.session_id,
        credential=ctx.credential,
        impersonated_by=ctx.impersonator.user_id if ctx.impersonator else None,
        impersonation_reason=ctx.impersonator.reason if ctx.impersonator else None,
        impersonation_expires_at=_impersonation_end(db, ctx),
    )


def _impersonation_end(db: IdentityDb, ctx: TenantContext) -> datetime | None:
    if ctx.impersonator is None or ctx.session_id is None:
        return None
    session = db.sessions.find(ctx.user_id, ctx.session_id)
    return None if session is None else datetime.fromtimestamp(int(session["expires_at"]), UTC)
