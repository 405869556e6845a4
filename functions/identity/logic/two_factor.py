"""Two-factor authentication (TOTP and recovery codes), the sign-in challenge, and step-up.

Data lives on the user item (`P#user#<id>`):
* `totp_pending_secret` — written by enrol, moved to `totp_secret` by confirm (a code proves the app has it);
* `totp_secret` — the active secret (its presence is what "two-factor on" means);
* `totp_last_step` — the TOTP time step last accepted: a code of that step or an earlier one is refused
  (replay), and the write is conditional on the value read, so two requests with one code cannot both pass;
* `recovery_code_hashes` — SHA-256 of each unused recovery code; spending one rewrites the list on
  the condition that it is still the list read, so a code works once even under races.

None of these ever leaves identity (events, logs, answers) except the secret once, at enrol.

Sign-in with two-factor on: the right password answers a challenge instead of a session
(`P#token#<sha256>` / `two-factor-challenge`, 256 random bits, 5 minutes, consumed by a
conditional delete in the transaction that opens the session). The sign-in account counter
claimed for the password stays claimed until the second factor succeeds, and each code attempt
claims it again, so wrong codes are throttled exactly like wrong passwords.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import passwords, sessions, totp, workspaces
from functions.identity.logic.common import RequestInfo, digest, in_tenant, now_or, signed_in_user
from functions.identity.logic.sessions import IssuedSession, SessionPolicy
from functions.identity.logic.step_up import STEP_UP_SECONDS, require_recent
from functions.identity.logic.throttle import SIGN_IN_ACCOUNT, SIGN_IN_IP, Throttle, email_subject
from functions.identity.models.two_factor import (
    ChallengeInvalid,
    RecoveryCodes,
    SecondFactorRequired,
    SteppedUp,
    StepUpRequest,
    TwoFactorEnrolment,
    TwoFactorRequired,
    TwoFactorSignInRequest,
    TwoFactorStatus,
    WrongProof,
)
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, Forbidden, Unauthorized
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import (
    SessionSteppedUp,
    TwoFactorDisabled,
    TwoFactorEnabled,
    TwoFactorRecoveryCodesRegenerated,
    TwoFactorRecoveryCodeUsed,
)
from ninefold_core.tenant import TenantContext

RECOVERY_CODE_COUNT = 10
# Lowercase letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, ~49.5 bits a code.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CHALLENGE_PURPOSE = "two-factor-challenge"
CHALLENGE_PREFIX = "nf_c_"
CHALLENGE_SECONDS = 5 * 60

Method = Literal["totp", "recovery-code"]


def is_enabled(user: Mapping[str, Any]) -> bool:
    return bool(user.get("totp_secret"))


def _home(ctx: TenantContext, user: Mapping[str, Any]) -> TenantContext:
    # User events belong to the user's home workspace.
    return in_tenant(ctx, str(user["home_tenant_id"]))


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


# --- recovery codes ------------------------------------------------------------------------


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def hash_recovery_code(code: str) -> str:
    """Stored form: SHA-256 of the code without separators, lowercased (as it is typed back)."""
    return digest(code.replace("-", "").replace(" ", "").lower())


def _new_codes() -> tuple[list[str], list[str]]:
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    return codes, [hash_recovery_code(c) for c in codes]


# --- proving the second factor -------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    """A second factor that checked out, and the user-item write that spends it (to merge into the
    caller's single update of the user item: a transaction may touch an item only once)."""

    method: Method
    changes: dict[str, Any]
    expected: dict[str, Any]
    recovery_codes_left: int | None = None


def prove(user: Mapping[str, Any], *, code: str | None, recovery_code: str | None, now: float) -> Proof:
    """Check an authenticator code or a recovery code against the user's active second factor."""
    secret = str(user.get("totp_secret") or "")
    if not secret:
        raise WrongProof("code")
    if code is not None:
        last = user.get("totp_last_step")
        step = totp.matching_step(secret, code, now=now, after_step=None if last is None else int(last))
        if step is None:
            raise WrongProof("code")
        expected: dict[str, Any] = {"totp_secret": secret}
        if last is not None:
            expected["totp_last_step"] = int(last)
        return Proof("totp", {"totp_last_step": step}, expected)
    if recovery_code is not None:
        hashes = [str(h) for h in user.get("recovery_code_hashes") or []]
        spent = hash_recovery_code(recovery_code)
        if spent not in hashes:
            raise WrongProof("recovery_code")
        left = [h for h in hashes if h != spent]
        return Proof(
            "recovery-code",
            {"recovery_code_hashes": left},
            {"totp_secret": secret, "recovery_code_hashes": hashes},
            recovery_codes_left=len(left),
        )
    raise WrongProof("code")


# --- enrolment -----------------------------------------------------------------------------


def status(db: IdentityDb, ctx: TenantContext) -> TwoFactorStatus:
    user = signed_in_user(db, ctx.user_id)
    enabled = is_enabled(user)
    return TwoFactorStatus(
        enabled=enabled, recovery_codes_left=len(user.get("recovery_code_hashes") or []) if enabled else 0
    )


def enrol(db: IdentityDb, ctx: TenantContext, *, now: float | None = None) -> TwoFactorEnrolment:
    """A new pending secret (replacing any earlier pending one); nothing changes until it is confirmed."""
    now = now_or(now)
    require_recent(ctx, now=now)
    user = signed_in_user(db, ctx.user_id)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already on. Turn it off first to move to another app.")
    secret = totp.new_secret()
    generation = int(user.get("generation", 0))
    try:
        db.transact(
            [db.users.update_op(ctx.user_id, {"totp_pending_secret": secret}, expected={"generation": generation})]
        )
    except ConditionFailed:
        raise Unauthorized("This session has ended; sign in again.") from None
    return TwoFactorEnrolment(secret=secret, otpauth_uri=totp.otpauth_uri(secret, str(user["email"])))


def confirm(db: IdentityDb, ctx: TenantContext, code: str, *, now: float | None = None) -> RecoveryCodes:
    """A code from the app proves it holds the pending secret: two-factor is on; the recovery codes, once."""
    now = now_or(now)
    user = signed_in_user(db, ctx.user_id)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already on.")
    pending = user.get("totp_pending_secret")
    if not pending:
        raise Conflict("Nothing to confirm: start with POST /api/v1/me/two-factor/enrol.")
    step = totp.matching_step(str(pending), code, now=now)
    if step is None:
        raise WrongProof("code")
    codes, hashes = _new_codes()
    changes = {
        "totp_secret": pending,
        "totp_pending_secret": "",
        "totp_last_step": step,
        "recovery_code_hashes": hashes,
    }
    try:
        db.transact(
            [
                db.users.update_op(ctx.user_id, changes, expected={"totp_pending_secret": pending}),
                db.event_op(new_envelope(TwoFactorEnabled(user_id=ctx.user_id), _home(ctx, user))),
            ]
        )
    except ConditionFailed:
        raise Conflict("Two-factor settings changed meanwhile; start again.") from None
    return RecoveryCodes(recovery_codes=codes)


def disable(db: IdentityDb, ctx: TenantContext, *, now: float | None = None) -> TwoFactorStatus:
    now = now_or(now)
    require_recent(ctx, now=now)
    user = signed_in_user(db, ctx.user_id)
    if not is_enabled(user):
        raise Conflict("Two-factor authentication is not on.")
    # Cleared, not removed (the store's updates only SET): an empty secret means "off".
    changes = {"totp_secret": "", "totp_pending_secret": "", "totp_last_step": 0, "recovery_code_hashes": []}
    try:
        db.transact(
            [
                db.users.update_op(ctx.user_id, changes, expected={"totp_secret": user["totp_secret"]}),
                db.event_op(new_envelope(TwoFactorDisabled(user_id=ctx.user_id), _home(ctx, user))),
            ]
        )
    except ConditionFailed:
        raise Conflict("Two-factor settings changed meanwhile; look again.") from None
    return TwoFactorStatus(enabled=False, recovery_codes_left=0)


def regenerate_recovery_codes(db: IdentityDb, ctx: TenantContext, *, now: float | None = None) -> RecoveryCodes:
    now = now_or(now)
    require_recent(ctx, now=now)
    user = signed_in_user(db, ctx.user_id)
    if not is_enabled(user):
        raise Conflict("Two-factor authentication is not on.")
    codes, hashes = _new_codes()
    try:
        db.transact(
            [
                db.users.update_op(
                    ctx.user_id, {"recovery_code_hashes": hashes}, expected={"totp_secret": user["totp_secret"]}
                ),
                db.event_op(
                    new_envelope(
                        TwoFactorRecoveryCodesRegenerated(user_id=ctx.user_id, count=len(codes)), _home(ctx, user)
                    )
                ),
            ]
        )
    except ConditionFailed:
        raise Conflict("Two-factor settings changed meanwhile; look again.") from None
    return RecoveryCodes(recovery_codes=codes)


# --- sign-in -------------------------------------------------------------------------------


def challenge(
    db: IdentityDb, user: Mapping[str, Any], *, account: str, new_password_hash: str | None, now: float
) -> TwoFactorRequired:
    """The password was right: a single-use challenge to finish signing in with a second factor.

    The account throttle counter claimed for the password is deliberately left in place.
    """
    token = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    expires_at = int(now) + CHALLENGE_SECONDS
    generation = int(user.get("generation", 0))
    ops = [
        db.tokens.put_op(
            digest(token),
            CHALLENGE_PURPOSE,
            {
                "user_id": user["user_id"],
                "account": account,
                "generation": generation,
                "created_at": int(now),
                "expires_at": expires_at,
            },
            ttl=expires_at,
        )
    ]
    if new_password_hash:
        ops.append(
            db.users.update_op(
                user["user_id"], {"password_hash": new_password_hash}, expected={"generation": generation}
            )
        )
    try:
        db.transact(ops)
    except ConditionFailed:
        raise Unauthorized("Sign in again.") from None
    return TwoFactorRequired(challenge=token, expires_at=_at(expires_at))


def complete_sign_in(
    db: IdentityDb,
    body: TwoFactorSignInRequest,
    *,
    policy: SessionPolicy,
    request: RequestInfo,
    previous_token: str | None = None,
    now: float | None = None,
) -> tuple[IssuedSession, dict[str, Any]]:
    """The challenge and a second factor: the session that sign-in held back."""
    now = now_or(now)
    throttle = Throttle(db.throttles)
    ip = request.ip_address or "unknown"
    throttle.check(SIGN_IN_IP, ip, now=now)
    if not body.challenge.startswith(CHALLENGE_PREFIX):
        raise ChallengeInvalid()
    challenge_hash = digest(body.challenge)
    record = db.tokens.get(challenge_hash, CHALLENGE_PURPOSE)
    # TTL deletion lags: expiry is checked here.
    if record is None or int(record["expires_at"]) <= now:
        raise ChallengeInvalid()
    account = str(record["account"])
    throttle.claim(SIGN_IN_ACCOUNT, account, now=now)
    user = db.users.get(str(record["user_id"]))
    generation = int(record["generation"])
    if user is None or user.get("disabled") or int(user.get("generation", 0)) != generation or not is_enabled(user):
        raise ChallengeInvalid()
    try:
        proof = prove(user, code=body.code, recovery_code=body.recovery_code, now=now)
    except WrongProof:
        throttle.fail(SIGN_IN_IP, ip, now=now)
        raise

    issued, ops = workspaces.sign_in_ops(
        db,
        user,
        generation=generation,
        policy=policy,
        request=request,
        now=now,
        previous_token=previous_token,
        changes=proof.changes,
        expected=proof.expected,
    )
    ops += [
        db.tokens.consume_op(challenge_hash, CHALLENGE_PURPOSE, user["user_id"]),
        throttle.clear_op(SIGN_IN_ACCOUNT, account),
    ]
    if proof.method == "recovery-code":
        actor = request.actor(str(user["home_tenant_id"]), user["user_id"])
        used = TwoFactorRecoveryCodeUsed(
            user_id=user["user_id"], purpose="sign-in", remaining=proof.recovery_codes_left or 0
        )
        ops.append(db.event_op(new_envelope(used, actor)))
    try:
        db.transact(ops)
    except ConditionFailed:
        # The challenge or the code was used by a concurrent request, or the user changed meanwhile.
        raise ChallengeInvalid() from None
    return issued, user


# --- step-up -------------------------------------------------------------------------------


def step_up(
    db: IdentityDb,
    ctx: TenantContext,
    body: StepUpRequest,
    *,
    token: str | None,
    request: RequestInfo,
    now: float | None = None,
) -> SteppedUp:
    """Prove the user again on this session: the password, or with two-factor on, a code or recovery code."""
    now = now_or(now)
    if ctx.auth_method != "session" or ctx.impersonator is not None or not ctx.session_id:
        raise Forbidden("Only the user's own session can step up.")
    session = db.sessions.get(sessions.hash_token(token)) if token else None
    if session is None or session["session_id"] != ctx.session_id:
        raise Unauthorized("This session has ended; sign in again.")
    user = signed_in_user(db, ctx.user_id)
    throttle = Throttle(db.throttles)
    ip = request.ip_address or "unknown"
    account = email_subject(str(user["email"]))
    throttle.check(SIGN_IN_IP, ip, now=now)
    if is_enabled(user) and body.password is not None:
        raise SecondFactorRequired()
    throttle.claim(SIGN_IN_ACCOUNT, account, now=now)

    user_changes: dict[str, Any] = {}
    user_expected: dict[str, Any] = {}
    method: Literal["password", "totp", "recovery-code"]
    proof: Proof | None = None
    try:
        if body.password is not None:
            if not passwords.verify_password(user.get("password_hash"), body.password):
                raise WrongProof("password")
            method = "password"
        else:
            proof = prove(user, code=body.code, recovery_code=body.recovery_code, now=now)
            method = proof.method
            user_changes, user_expected = proof.changes, proof.expected
    except WrongProof:
        throttle.fail(SIGN_IN_IP, ip, now=now)
        raise

    stepped_up_at = int(now)
    ops = [
        db.sessions.repo.update_op(
            (session["token_hash"],),
            "session",
            {"stepped_up_at": stepped_up_at},
            expected={"session_id": ctx.session_id},
        ),
        db.event_op(new_envelope(SessionSteppedUp(session_id=ctx.session_id, user_id=ctx.user_id, method=method), ctx)),
        throttle.clear_op(SIGN_IN_ACCOUNT, account),
    ]
    if user_changes:
        ops.append(db.users.update_op(ctx.user_id, user_changes, expected=user_expected))
    if proof is not None and proof.method == "recovery-code":
        used = TwoFactorRecoveryCodeUsed(
            user_id=ctx.user_id, purpose="step-up", remaining=proof.recovery_codes_left or 0
        )
        ops.append(db.event_op(new_envelope(used, _home(ctx, user))))
    try:
        db.transact(ops)
    except ConditionFailed:
        # The code was spent by a concurrent request, or the session ended meanwhile.
        if proof is None:
            raise Unauthorized("This session has ended; sign in again.") from None
        raise WrongProof("recovery_code" if proof.method == "recovery-code" else "code") from None
    return SteppedUp(stepped_up_at=_at(stepped_up_at), expires_at=_at(stepped_up_at + STEP_UP_SECONDS))
