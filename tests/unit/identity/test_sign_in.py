"""Sign-in: sessions, cookies, enumeration resistance and brute-force throttling."""

from __future__ import annotations

import time
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import accounts, passwords, throttle
from functions.identity.logic.accounts import AccountSettings
from functions.identity.logic.common import RequestInfo
from functions.identity.logic.sessions import hash_token
from functions.identity.logic.throttle import SIGN_IN_ACCOUNT, SIGN_IN_IP, Policy, delay_seconds, wait_seconds
from functions.identity.models.api import SignInRequest
from functions.identity.models.errors import AccountDisabled, InvalidCredentials
from ninefold_core.errors import TooManyRequests
from tests.unit.identity.conftest import APP_URL, GOOD_PASSWORD, authorize, call, context_for, events, scan

SETTINGS = AccountSettings(app_url=APP_URL)
T0 = 1_800_000_000.0


@pytest.fixture
def alice(identity_env: str, lambda_context: Any) -> str:
    reply = call(
        "POST",
        "/api/v1/auth/sign-up",
        None,
        lambda_context,
        body={"email": "alice@example.com", "password": GOOD_PASSWORD},
    )
    assert reply.status == 202
    return "alice@example.com"


def attempt(db: IdentityDb, email: str, password: str, *, now: float, ip: str = "198.51.100.7") -> Any:
    return accounts.sign_in(
        db,
        SignInRequest(email=email, password=password),
        settings=SETTINGS,
        request=RequestInfo(ip_address=ip, user_agent="pytest"),
        now=now,
    )


# --- the throttle's arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (10, 32), (14, 512), (15, 900), (40, 900), (10_000, 900)],
)
def test_after_five_failures_the_wait_doubles_up_to_fifteen_minutes(failures: int, delay: int) -> None:
    assert delay_seconds(failures, SIGN_IN_ACCOUNT) == delay


def test_the_wait_counts_from_the_last_failure_and_expired_counters_count_for_nothing() -> None:
    policy = Policy("p", free_attempts=5)
    state = {"failures": 7, "last_failure_at": 1000, "ttl": 5000}
    assert wait_seconds(state, policy, now=1000) == 4
    assert wait_seconds(state, policy, now=1002.5) == 2
    assert wait_seconds(state, policy, now=1004) == 0
    assert wait_seconds({**state, "ttl": 1000}, policy, now=1001) == 0
    assert wait_seconds(None, policy, now=1000) == 0


# --- sign-in --------------------------------------------------------------------------------


def test_sign_in_opens_a_session_and_sets_the_cookies(identity_env: str, alice: str, lambda_context: Any) -> None:
    reply = call(
        "POST",
        "/api/v1/auth/sign-in",
        None,
        lambda_context,
        body={"email": "ALICE@example.com ", "password": GOOD_PASSWORD},
    )

    assert reply.status == 200
    body = reply.body
    assert body["token"].startswith("nf_s_")
    assert len(body["token"]) >= 5 + 43
    assert body["email_verified"] is False
    assert reply.cookie("__Host-nf_session") == body["token"]
    assert set(reply.cookie_attributes("__Host-nf_session")) >= {"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}
    assert not any(a.startswith("Domain") for a in reply.cookie_attributes("__Host-nf_session"))
    assert reply.cookie("nf_csrf") == body["csrf_token"]
    assert "HttpOnly" not in reply.cookie_attributes("nf_csrf")
    (row,) = [i for i in scan(identity_env) if str(i["pk"]).startswith("P#session#")]
    assert row["pk"] == f"P#session#{hash_token(body['token'])}"
    assert row["gsi1pk"] == f"P#user-sessions#{body['user_id']}"
    assert body["token"] not in str(row)
    assert body["csrf_token"] not in str(row)
    (created,) = events(identity_env, "session.created")
    assert created["data"] == {
        "session_id": body["session_id"],
        "user_id": body["user_id"],
        "reason": "sign-in",
        "replaces_session_id": None,
    }


def test_unverified_users_may_sign_in_and_me_says_so(alice: str, lambda_context: Any) -> None:
    token = call(
        "POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": alice, "password": GOOD_PASSWORD}
    ).body["token"]
    me = call("GET", "/api/v1/me", context_for(token, lambda_context), lambda_context).body
    assert (me["email"], me["email_verified"], me["roles"]) == (alice, False, ["owner"])


def test_a_wrong_password_and_an_unknown_address_get_the_same_problem(alice: str, lambda_context: Any) -> None:
    wrong = call(
        "POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": alice, "password": "not it at all"}
    )
    unknown = call(
        "POST",
        "/api/v1/auth/sign-in",
        None,
        lambda_context,
        body={"email": "eve@example.com", "password": "not it at all"},
    )
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert wrong.cookies == unknown.cookies == []


def test_unknown_addresses_cost_an_argon2_verification_too(
    identity_env: str, db: IdentityDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    real = passwords.verify_password

    def spy(stored: str | None, password: str) -> bool:
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    with pytest.raises(InvalidCredentials):
        attempt(db, "nobody@example.com", "some password", now=T0)
    assert seen == [None]  # verify_password(None, ...) runs argon2 against the dummy hash


def test_five_failures_then_a_429_with_retry_after_then_the_wait_doubles(alice: str, db: IdentityDb) -> None:
    for i in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(db, alice, "wrong password", now=T0 + i)

    with pytest.raises(TooManyRequests) as blocked:
        attempt(db, alice, GOOD_PASSWORD, now=T0 + 4)  # even the right password waits
    assert blocked.value.retry_after_seconds == 1

    with pytest.raises(InvalidCredentials):
        attempt(db, alice, "wrong again", now=T0 + 5)
    with pytest.raises(TooManyRequests) as blocked:
        attempt(db, alice, GOOD_PASSWORD, now=T0 + 5)
    assert blocked.value.retry_after_seconds == 2

    issued, _ = attempt(db, alice, GOOD_PASSWORD, now=T0 + 7)
    assert issued.token
    # A success clears the account's counter: the next typo is an ordinary 401 again.
    with pytest.raises(InvalidCredentials):
        attempt(db, alice, "one more typo", now=T0 + 7)


def test_unknown_addresses_are_throttled_exactly_like_known_ones(identity_env: str, db: IdentityDb) -> None:
    for i in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(db, "ghost@example.com", "guess", now=T0 + i)
    with pytest.raises(TooManyRequests) as blocked:
        attempt(db, "ghost@example.com", "guess", now=T0 + 4.5)
    assert blocked.value.retry_after_seconds == 1


def test_the_wait_is_capped_so_the_owner_is_never_locked_out(alice: str, db: IdentityDb) -> None:
    now = T0
    for _ in range(30):
        now += throttle.MAX_DELAY_SECONDS
        with pytest.raises(InvalidCredentials):
            attempt(db, alice, "brute force", now=now)
    issued, _ = attempt(db, alice, GOOD_PASSWORD, now=now + throttle.MAX_DELAY_SECONDS)
    assert issued.session_id


def test_a_second_guess_racing_the_first_is_refused(alice: str, db: IdentityDb) -> None:
    """The attempt is claimed with a conditional write on the count it read."""
    state = db.throttles.get(SIGN_IN_ACCOUNT.name, throttle.email_subject(alice))
    assert state is None
    assert db.throttles.claim(SIGN_IN_ACCOUNT.name, "s", stored=None, changes={"failures": 1}, ttl=int(T0) + 60)
    assert not db.throttles.claim(SIGN_IN_ACCOUNT.name, "s", stored=None, changes={"failures": 1}, ttl=int(T0) + 60)
    assert db.throttles.claim(SIGN_IN_ACCOUNT.name, "s", stored=1, changes={"failures": 2}, ttl=int(T0) + 60)
    assert not db.throttles.claim(SIGN_IN_ACCOUNT.name, "s", stored=1, changes={"failures": 2}, ttl=int(T0) + 60)


def test_many_failures_from_one_address_throttle_it_across_accounts(identity_env: str, db: IdentityDb) -> None:
    for i in range(SIGN_IN_IP.free_attempts):
        with pytest.raises(InvalidCredentials):
            attempt(db, f"user{i}@example.com", "guess", now=T0 + i, ip="203.0.113.9")
    with pytest.raises(TooManyRequests):
        attempt(db, "fresh@example.com", "guess", now=T0 + 19.5, ip="203.0.113.9")
    with pytest.raises(InvalidCredentials):  # another address is not affected
        attempt(db, "fresh@example.com", "guess", now=T0 + 19.5, ip="203.0.113.10")


def test_the_429_reaches_the_caller_as_a_problem_with_retry_after(alice: str, lambda_context: Any) -> None:
    body = {"email": alice, "password": "wrong password"}
    for _ in range(5):
        assert call("POST", "/api/v1/auth/sign-in", None, lambda_context, body=body).status == 401
    reply = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body=body)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "1"
    assert reply.body["type"].endswith("/too-many-requests")


def test_a_disabled_user_learns_it_only_with_the_right_password(alice: str, db: IdentityDb) -> None:
    user = db.users.by_email(alice)
    assert user is not None
    accounts.disable_user(
        db, user["user_id"], reason="abuse report 7", actor=RequestInfo().actor(user["home_tenant_id"])
    )
    with pytest.raises(InvalidCredentials):
        attempt(db, alice, "wrong password", now=time.time())
    with pytest.raises(AccountDisabled):
        attempt(db, alice, GOOD_PASSWORD, now=time.time() + 10)


def test_signing_in_with_a_session_cookie_rotates_the_old_session_out(
    identity_env: str, alice: str, lambda_context: Any
) -> None:
    body = {"email": alice, "password": GOOD_PASSWORD}
    first = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body=body)
    second = call(
        "POST",
        "/api/v1/auth/sign-in",
        None,
        lambda_context,
        body=body,
        cookies={"__Host-nf_session": first.body["token"]},
    )

    assert second.status == 200
    assert authorize(lambda_context, token=first.body["token"]) == {"isAuthorized": False}
    assert authorize(lambda_context, token=second.body["token"])["isAuthorized"] is True
    (revoked,) = events(identity_env, "session.revoked")
    assert revoked["data"]["reason"] == "rotated"
    assert events(identity_env, "session.created")[-1]["data"]["replaces_session_id"] == first.body["session_id"]


def test_an_old_hash_is_upgraded_at_sign_in(alice: str, db: IdentityDb) -> None:
    from argon2 import PasswordHasher

    user = db.users.by_email(alice)
    assert user is not None
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD_PASSWORD)
    db.users.repo.update((user["user_id"],), "user", {"password_hash": weak})

    attempt(db, alice, GOOD_PASSWORD, now=time.time())

    upgraded = db.users.get(user["user_id"])
    assert upgraded is not None
    assert not passwords.needs_rehash(upgraded["password_hash"])
