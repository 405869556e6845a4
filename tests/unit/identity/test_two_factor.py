"""Two-factor authentication: TOTP (RFC 6238), recovery codes, the sign-in challenge, step-up."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import accounts, sessions, step_up, totp, two_factor
from functions.identity.logic.accounts import AccountSettings
from functions.identity.logic.common import RequestInfo
from functions.identity.logic.throttle import SIGN_IN_ACCOUNT, SIGN_IN_IP, email_subject
from functions.identity.models.api import ChangePasswordRequest, SignInRequest
from functions.identity.models.two_factor import (
    ChallengeInvalid,
    SecondFactorRequired,
    StepUpRequest,
    TwoFactorRequired,
    TwoFactorSignInRequest,
    WrongProof,
)
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, TooManyRequests, Unauthorized
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import APP_URL, GOOD_PASSWORD, call, context_for, events, scan

SETTINGS = AccountSettings(app_url=APP_URL)
T0 = 1_800_000_000.0  # a multiple of 30: step boundaries are easy to reason about
REQUEST = RequestInfo(ip_address="198.51.100.9", user_agent="pytest")
EMAIL = "tess@example.com"

# --- TOTP: RFC 6238 appendix B -------------------------------------------------------------

SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_totp_matches_the_rfc_6238_test_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        counter = totp.time_step(at)
        assert totp.hotp(SEEDS[algorithm], counter, digits=8, algorithm=algorithm) == expected
    secret = base64.b32encode(SEEDS["SHA1"]).decode()
    assert totp.code_at(secret, at, digits=8) == sha1
    assert totp.code_at(secret, at) == sha1[-6:]  # 6 digits: the same number modulo 10^6


def test_secrets_are_160_random_bits_in_base32_and_the_uri_names_the_issuer_and_email() -> None:
    secret = totp.new_secret()
    assert len(totp.secret_bytes(secret)) == 20
    assert len(secret) == 32
    assert secret.isalnum()
    assert secret.upper() == secret
    assert totp.new_secret() != secret
    uri = totp.otpauth_uri(secret, "tess+2fa@example.com")
    assert uri.startswith("otpauth://totp/Ninefold:tess%2B2fa@example.com?")
    assert f"secret={secret}" in uri
    assert "issuer=Ninefold" in uri
    assert "digits=6" in uri
    assert "period=30" in uri
    assert "algorithm=SHA1" in uri


def test_a_code_is_accepted_one_step_either_side_and_never_at_or_below_the_last_step() -> None:
    secret = totp.new_secret()
    step = totp.time_step(T0)
    assert totp.matching_step(secret, totp.code_at(secret, T0), now=T0) == step
    assert totp.matching_step(secret, totp.code_at(secret, T0 - 30), now=T0) == step - 1
    assert totp.matching_step(secret, totp.code_at(secret, T0 + 30), now=T0) == step + 1
    assert totp.matching_step(secret, totp.code_at(secret, T0 - 60), now=T0) is None
    assert totp.matching_step(secret, totp.code_at(secret, T0 + 60), now=T0) is None
    # Replay: the step last accepted, or any earlier one, is refused.
    assert totp.matching_step(secret, totp.code_at(secret, T0), now=T0, after_step=step) is None
    assert totp.matching_step(secret, totp.code_at(secret, T0 + 30), now=T0, after_step=step) == step + 1
    assert totp.matching_step(secret, "12345", now=T0) is None
    assert totp.matching_step(secret, "abcdef", now=T0) is None


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def tess(identity_env: str, lambda_context: Any) -> dict[str, Any]:
    reply = call("POST", "/api/v1/auth/sign-up", None, lambda_context, body={"email": EMAIL, "password": GOOD_PASSWORD})
    assert reply.status == 202
    user = IdentityDb(identity_env).users.by_email(EMAIL)
    assert user is not None
    return user


def session_ctx(
    db: IdentityDb, user: dict[str, Any], *, now: float, stepped_up: bool = True
) -> tuple[str, TenantContext]:
    issued = sessions.issue(db, user_id=user["user_id"], tenant_id=user["home_tenant_id"], now=now)
    ctx = TenantContext(
        tenant_id=user["home_tenant_id"],
        user_id=user["user_id"],
        session_id=issued.session_id,
        roles=["owner"],
        permissions=frozenset({"*"}),
        stepped_up_at=int(now) if stepped_up else None,
    )
    return issued.token, ctx


def enable(db: IdentityDb, user: dict[str, Any], *, now: float = T0) -> tuple[str, list[str]]:
    """Turn two-factor on at `now`; the secret and the recovery codes."""
    _, ctx = session_ctx(db, user, now=now)
    secret = two_factor.enrol(db, ctx, now=now).secret
    codes = two_factor.confirm(db, ctx, totp.code_at(secret, now), now=now).recovery_codes
    return secret, codes


def password_step(db: IdentityDb, *, now: float, password: str = GOOD_PASSWORD) -> Any:
    result, _ = accounts.sign_in(
        db, SignInRequest(email=EMAIL, password=password), settings=SETTINGS, request=REQUEST, now=now
    )
    return result


def second_step(
    db: IdentityDb, challenge: str, *, now: float, code: str | None = None, recovery: str | None = None
) -> Any:
    body = TwoFactorSignInRequest(challenge=challenge, code=code, recovery_code=recovery)
    return two_factor.complete_sign_in(db, body, policy=SETTINGS.sessions, request=REQUEST, now=now)


# --- enrol, confirm, disable ---------------------------------------------------------------


def test_enrolling_needs_a_recent_step_up(db: IdentityDb, tess: dict[str, Any]) -> None:
    _, stale = session_ctx(db, tess, now=T0 - step_up.STEP_UP_SECONDS - 1)
    with pytest.raises(step_up.StepUpRequired):
        two_factor.enrol(db, stale, now=T0)
    _, never = session_ctx(db, tess, now=T0, stepped_up=False)
    with pytest.raises(step_up.StepUpRequired):
        two_factor.enrol(db, never, now=T0)
    assert "totp_pending_secret" not in (db.users.get(tess["user_id"]) or {})


def test_enrol_is_pending_until_a_code_confirms_it_then_recovery_codes_are_shown_once(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    _, ctx = session_ctx(db, tess, now=T0)
    enrolment = two_factor.enrol(db, ctx, now=T0)
    assert enrolment.otpauth_uri.startswith(f"otpauth://totp/Ninefold:{EMAIL}?secret={enrolment.secret}")
    assert two_factor.status(db, ctx).enabled is False
    # Pending: the password alone still signs in.
    assert isinstance(password_step(db, now=T0), sessions.IssuedSession)

    with pytest.raises(WrongProof):
        two_factor.confirm(db, ctx, "000000" if totp.code_at(enrolment.secret, T0) != "000000" else "111111", now=T0)
    codes = two_factor.confirm(db, ctx, totp.code_at(enrolment.secret, T0), now=T0).recovery_codes

    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(c) == 12 and c[4] == "-" and c[9] == "-" for c in codes)
    status = two_factor.status(db, ctx)
    assert (status.enabled, status.recovery_codes_left) == (True, 10)
    user = db.users.get(tess["user_id"]) or {}
    assert user["totp_secret"] == enrolment.secret
    assert user["totp_pending_secret"] == ""
    assert user["totp_last_step"] == totp.time_step(T0)
    assert user["recovery_code_hashes"] == [two_factor.hash_recovery_code(c) for c in codes]
    assert not any(c in str(scan(identity_env)) for c in codes), "recovery codes are stored as hashes only"
    (enabled,) = events(identity_env, "two_factor.enabled")
    assert enabled["data"] == {"user_id": tess["user_id"], "method": "totp"}
    assert enrolment.secret not in str(events(identity_env))
    with pytest.raises(Conflict):
        two_factor.confirm(db, ctx, totp.code_at(enrolment.secret, T0 + 30), now=T0 + 30)
    with pytest.raises(Conflict):
        two_factor.enrol(db, ctx, now=T0)


def test_disabling_needs_a_step_up_and_then_the_password_alone_signs_in(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    enable(db, tess)
    _, stale = session_ctx(db, tess, now=T0, stepped_up=False)
    with pytest.raises(step_up.StepUpRequired):
        two_factor.disable(db, stale, now=T0)
    _, ctx = session_ctx(db, tess, now=T0)
    assert two_factor.disable(db, ctx, now=T0).enabled is False

    user = db.users.get(tess["user_id"]) or {}
    assert (user["totp_secret"], user["recovery_code_hashes"]) == ("", [])
    assert len(events(identity_env, "two_factor.disabled")) == 1
    assert isinstance(password_step(db, now=T0 + 1), sessions.IssuedSession)
    with pytest.raises(Conflict):
        two_factor.disable(db, ctx, now=T0)


def test_regenerating_recovery_codes_voids_the_old_ones(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    _, old = enable(db, tess)
    _, stale = session_ctx(db, tess, now=T0, stepped_up=False)
    with pytest.raises(step_up.StepUpRequired):
        two_factor.regenerate_recovery_codes(db, stale, now=T0)
    _, ctx = session_ctx(db, tess, now=T0)
    new = two_factor.regenerate_recovery_codes(db, ctx, now=T0).recovery_codes
    assert len(new) == 10
    assert not set(new) & set(old)
    (regenerated,) = events(identity_env, "two_factor.recovery_codes_regenerated")
    assert regenerated["data"] == {"user_id": tess["user_id"], "count": 10}

    challenge = password_step(db, now=T0 + 5).challenge
    with pytest.raises(WrongProof):
        second_step(db, challenge, now=T0 + 5, recovery=old[0])
    issued, _ = second_step(db, challenge, now=T0 + 5, recovery=new[0])
    assert issued.token.startswith("nf_s_")


# --- sign-in -------------------------------------------------------------------------------


def test_the_right_password_answers_a_challenge_not_a_session_and_a_code_finishes(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    secret, _ = enable(db, tess)
    sessions_before = len([i for i in scan(identity_env) if str(i["pk"]).startswith("P#session#")])

    result = password_step(db, now=T0 + 30)
    assert isinstance(result, TwoFactorRequired)
    assert result.status == "two-factor-required"
    assert result.challenge.startswith("nf_c_")
    assert int(result.expires_at.timestamp()) == int(T0) + 30 + two_factor.CHALLENGE_SECONDS
    assert len([i for i in scan(identity_env) if str(i["pk"]).startswith("P#session#")]) == sessions_before
    assert result.challenge not in str(scan(identity_env)), "the challenge is stored hashed"

    issued, _ = second_step(db, result.challenge, now=T0 + 30, code=totp.code_at(secret, T0 + 30))
    row = db.sessions.get(sessions.hash_token(issued.token)) or {}
    assert (row["user_id"], row["stepped_up_at"]) == (tess["user_id"], int(T0) + 30)
    assert db.throttles.get(SIGN_IN_ACCOUNT.name, email_subject(EMAIL)) is None, "a success clears the counter"


def test_a_challenge_is_single_use_and_expires(db: IdentityDb, tess: dict[str, Any]) -> None:
    secret, _ = enable(db, tess)
    used = password_step(db, now=T0 + 30).challenge
    second_step(db, used, now=T0 + 30, code=totp.code_at(secret, T0 + 30))
    with pytest.raises(ChallengeInvalid):
        second_step(db, used, now=T0 + 60, code=totp.code_at(secret, T0 + 60))

    late = password_step(db, now=T0 + 90).challenge
    expired_at = T0 + 90 + two_factor.CHALLENGE_SECONDS
    with pytest.raises(ChallengeInvalid):
        second_step(db, late, now=expired_at, code=totp.code_at(secret, expired_at))
    with pytest.raises(ChallengeInvalid):
        second_step(db, "nf_c_" + "x" * 43, now=T0 + 90, code=totp.code_at(secret, T0 + 90))


def test_a_code_works_once_replay_is_refused(db: IdentityDb, tess: dict[str, Any]) -> None:
    secret, _ = enable(db, tess)  # confirmed with the code of step T0
    first = password_step(db, now=T0 + 30).challenge
    with pytest.raises(WrongProof):
        second_step(db, first, now=T0 + 30, code=totp.code_at(secret, T0))  # the confirm's own code
    second_step(db, first, now=T0 + 30, code=totp.code_at(secret, T0 + 30))
    again = password_step(db, now=T0 + 31).challenge
    with pytest.raises(WrongProof):
        second_step(db, again, now=T0 + 31, code=totp.code_at(secret, T0 + 30))
    # An older, not yet used code within the drift window is refused too (its step is below the last).
    with pytest.raises(WrongProof):
        second_step(db, again, now=T0 + 31, code=totp.code_at(secret, T0))


def test_a_recovery_code_signs_in_once(identity_env: str, db: IdentityDb, tess: dict[str, Any]) -> None:
    _, codes = enable(db, tess)
    challenge = password_step(db, now=T0 + 30).challenge
    issued, _ = second_step(db, challenge, now=T0 + 30, recovery=codes[3].upper().replace("-", " "))
    assert issued.user_id == tess["user_id"]
    (used,) = events(identity_env, "two_factor.recovery_code_used")
    assert used["data"] == {"user_id": tess["user_id"], "purpose": "sign-in", "remaining": 9}
    assert codes[3] not in str(used)

    again = password_step(db, now=T0 + 31).challenge
    with pytest.raises(WrongProof) as refused:
        second_step(db, again, now=T0 + 31, recovery=codes[3])
    assert refused.value.field == "recovery_code"


def test_two_concurrent_uses_of_one_recovery_code_cannot_both_succeed(db: IdentityDb, tess: dict[str, Any]) -> None:
    _, codes = enable(db, tess)
    user = db.users.get(tess["user_id"]) or {}
    # Both requests read the user before either writes.
    first = two_factor.prove(user, code=None, recovery_code=codes[0], now=T0)
    second = two_factor.prove(user, code=None, recovery_code=codes[0], now=T0)
    db.transact([db.users.update_op(tess["user_id"], first.changes, expected=first.expected)])
    with pytest.raises(ConditionFailed):
        db.transact([db.users.update_op(tess["user_id"], second.changes, expected=second.expected)])
    assert len((db.users.get(tess["user_id"]) or {})["recovery_code_hashes"]) == 9


def test_wrong_codes_count_against_the_sign_in_throttles(db: IdentityDb, tess: dict[str, Any]) -> None:
    secret, _ = enable(db, tess)
    now = T0 + 30
    challenge = password_step(db, now=now).challenge  # the password's claim stays: failures = 1
    wrong = "000000" if totp.code_at(secret, now) != "000000" else "111111"
    for _ in range(4):  # failures 2..5
        with pytest.raises(WrongProof):
            second_step(db, challenge, now=now, code=wrong)
    with pytest.raises(TooManyRequests):
        second_step(db, challenge, now=now, code=totp.code_at(secret, now))
    ip = db.throttles.get(SIGN_IN_IP.name, REQUEST.ip_address or "")
    assert ip is not None
    assert int(ip["failures"]) == 4
    # After the wait the right code still works.
    issued, _ = second_step(db, challenge, now=now + 2, code=totp.code_at(secret, now + 2))
    assert issued.token


def test_sign_in_through_the_api_answers_the_challenge_then_the_session_with_cookies(
    identity_env: str, tess: dict[str, Any], lambda_context: Any
) -> None:
    now = time.time()
    db = IdentityDb(identity_env)
    secret, _ = enable(db, tess, now=now - 30)
    first = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": EMAIL, "password": GOOD_PASSWORD})
    assert first.status == 200
    assert first.body["status"] == "two-factor-required"
    assert set(first.body) == {"status", "challenge", "expires_at", "methods"}
    assert first.cookies == []
    assert "token" not in first.body

    code = totp.code_at(secret, time.time())
    done = call(
        "POST",
        "/api/v1/auth/sign-in/two-factor",
        None,
        lambda_context,
        body={"challenge": first.body["challenge"], "code": code},
    )
    assert done.status == 200, done.body
    assert done.body["token"].startswith("nf_s_")
    assert done.cookie("__Host-nf_session") == done.body["token"]
    assert done.cookie("nf_csrf") == done.body["csrf_token"]
    me = call("GET", "/api/v1/me", context_for(done.body["token"], lambda_context), lambda_context)
    assert me.body["user_id"] == tess["user_id"]

    reused = call(
        "POST",
        "/api/v1/auth/sign-in/two-factor",
        None,
        lambda_context,
        body={"challenge": first.body["challenge"], "code": code},
    )
    assert reused.status == 401
    assert reused.body["type"].endswith("/invalid-challenge")
    bad = call("POST", "/api/v1/auth/sign-in/two-factor", None, lambda_context, body={"challenge": "nf_c_abcdefghijkl"})
    assert bad.status == 422


def test_users_without_two_factor_keep_the_plain_sign_in_answer(tess: dict[str, Any], lambda_context: Any) -> None:
    reply = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": EMAIL, "password": GOOD_PASSWORD})
    assert reply.status == 200
    assert "status" not in reply.body
    assert reply.body["token"].startswith("nf_s_")


# --- step-up -------------------------------------------------------------------------------


def test_without_two_factor_the_password_steps_up_the_session(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    token, ctx = session_ctx(db, tess, now=T0, stepped_up=False)
    with pytest.raises(WrongProof):
        two_factor.step_up(db, ctx, StepUpRequest(password="not the password"), token=token, request=REQUEST, now=T0)
    ip = db.throttles.get(SIGN_IN_IP.name, REQUEST.ip_address or "")
    assert ip is not None
    assert int(ip["failures"]) == 1

    result = two_factor.step_up(
        db, ctx, StepUpRequest(password=GOOD_PASSWORD), token=token, request=REQUEST, now=T0 + 5
    )
    assert int(result.stepped_up_at.timestamp()) == int(T0) + 5
    assert int(result.expires_at.timestamp()) == int(T0) + 5 + step_up.STEP_UP_SECONDS
    assert (db.sessions.get(sessions.hash_token(token)) or {})["stepped_up_at"] == int(T0) + 5
    (event,) = events(identity_env, "session.stepped_up")
    assert event["data"] == {"session_id": ctx.session_id, "user_id": tess["user_id"], "method": "password"}


def test_with_two_factor_the_password_alone_does_not_step_up_but_a_code_does(
    identity_env: str, db: IdentityDb, tess: dict[str, Any]
) -> None:
    secret, codes = enable(db, tess)
    token, ctx = session_ctx(db, tess, now=T0 - 1000, stepped_up=False)
    with pytest.raises(SecondFactorRequired):
        two_factor.step_up(db, ctx, StepUpRequest(password=GOOD_PASSWORD), token=token, request=REQUEST, now=T0 + 30)
    assert (db.sessions.get(sessions.hash_token(token)) or {})["stepped_up_at"] == int(T0) - 1000

    code = totp.code_at(secret, T0 + 30)
    two_factor.step_up(db, ctx, StepUpRequest(code=code), token=token, request=REQUEST, now=T0 + 30)
    assert (db.sessions.get(sessions.hash_token(token)) or {})["stepped_up_at"] == int(T0) + 30
    with pytest.raises(WrongProof):  # the same code again
        two_factor.step_up(db, ctx, StepUpRequest(code=code), token=token, request=REQUEST, now=T0 + 31)
    two_factor.step_up(db, ctx, StepUpRequest(recovery_code=codes[0]), token=token, request=REQUEST, now=T0 + 40)
    assert [e["data"]["method"] for e in events(identity_env, "session.stepped_up")] == ["totp", "recovery-code"]
    (used,) = events(identity_env, "two_factor.recovery_code_used")
    assert used["data"]["purpose"] == "step-up"


def test_another_sessions_token_cannot_step_up_this_session(db: IdentityDb, tess: dict[str, Any]) -> None:
    other_token, _ = session_ctx(db, tess, now=T0)
    _, ctx = session_ctx(db, tess, now=T0, stepped_up=False)
    with pytest.raises(Unauthorized):
        two_factor.step_up(db, ctx, StepUpRequest(password=GOOD_PASSWORD), token=other_token, request=REQUEST, now=T0)


def test_changing_the_password_with_two_factor_on_needs_a_recent_step_up(db: IdentityDb, tess: dict[str, Any]) -> None:
    enable(db, tess)
    token, stale = session_ctx(db, tess, now=T0 - step_up.STEP_UP_SECONDS - 60)
    body = ChangePasswordRequest(current_password=GOOD_PASSWORD, new_password="a brand new passphrase")
    with pytest.raises(step_up.StepUpRequired):
        accounts.change_password(db, stale, body, settings=SETTINGS, request=REQUEST, current_token=token, now=T0)
    token, fresh = session_ctx(db, tess, now=T0)
    issued = accounts.change_password(db, fresh, body, settings=SETTINGS, request=REQUEST, current_token=token, now=T0)
    assert issued.token


def test_the_routes_need_a_step_up_and_answer_problems(
    identity_env: str, tess: dict[str, Any], lambda_context: Any
) -> None:
    token = call(
        "POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": EMAIL, "password": GOOD_PASSWORD}
    ).body["token"]
    fresh = context_for(token, lambda_context)
    stale = fresh.model_copy(update={"stepped_up_at": int(time.time()) - step_up.STEP_UP_SECONDS - 5})
    bearer = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    refused = call("POST", "/api/v1/me/two-factor/enrol", stale, lambda_context)
    assert refused.status == 403
    assert refused.body["type"].endswith("/step-up-required")

    enrolled = call("POST", "/api/v1/me/two-factor/enrol", fresh, lambda_context)
    assert enrolled.status == 200
    assert enrolled.body["status"] == "pending"
    secret = enrolled.body["secret"]
    bad = call("POST", "/api/v1/me/two-factor/confirm", fresh, lambda_context, body={"code": "12"})
    assert bad.status == 422
    confirmed = call(
        "POST", "/api/v1/me/two-factor/confirm", fresh, lambda_context, body={"code": totp.code_at(secret, time.time())}
    )
    assert confirmed.status == 200
    assert len(confirmed.body["recovery_codes"]) == 10
    assert call("GET", "/api/v1/me/two-factor", fresh, lambda_context).body == {
        "enabled": True,
        "recovery_codes_left": 10,
    }
    assert secret not in str(call("GET", "/api/v1/me/two-factor", fresh, lambda_context).body)

    password_only = call(
        "POST", "/api/v1/me/step-up", stale, lambda_context, body={"password": GOOD_PASSWORD}, headers=bearer
    )
    assert password_only.status == 422
    assert password_only.body["type"].endswith("/second-factor-required")
    both = call(
        "POST", "/api/v1/me/step-up", stale, lambda_context, body={"password": "x", "code": "123456"}, headers=bearer
    )
    assert both.status == 422
    stepped = call(
        "POST",
        "/api/v1/me/step-up",
        stale,
        lambda_context,
        body={"recovery_code": confirmed.body["recovery_codes"][0]},
        headers=bearer,
    )
    assert stepped.status == 200, stepped.body
    now_fresh = context_for(token, lambda_context)
    assert step_up.is_recent(now_fresh)
    regenerated = call("POST", "/api/v1/me/two-factor/recovery-codes", now_fresh, lambda_context)
    assert regenerated.status == 200
    assert len(regenerated.body["recovery_codes"]) == 10
    assert call("POST", "/api/v1/me/two-factor/disable", stale, lambda_context).status == 403
    disabled = call("POST", "/api/v1/me/two-factor/disable", now_fresh, lambda_context)
    assert disabled.status == 200
    assert disabled.body == {"enabled": False, "recovery_codes_left": 0}
