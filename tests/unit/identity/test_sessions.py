"""Sessions: timeouts, sliding, rotation, listing and revocation, CSRF for cookie writes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import accounts, sessions
from functions.identity.logic.common import RequestInfo
from functions.identity.logic.sessions import SessionPolicy
from functions.identity.seed import SeededUser
from ninefold_core.errors import Unauthorized
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import GOOD_PASSWORD, Reply, authorize, call, context_for, events

POLICY = SessionPolicy()
NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def alice(identity_env: str, lambda_context: Any) -> str:
    body = {"email": "alice@example.com", "password": GOOD_PASSWORD}
    assert call("POST", "/api/v1/auth/sign-up", None, lambda_context, body=body).status == 202
    return "alice@example.com"


def sign_in(lambda_context: Any, email: str = "alice@example.com", password: str = GOOD_PASSWORD) -> Reply:
    reply = call("POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": email, "password": password})
    assert reply.status == 200, reply.body
    return reply


def session_row(db: IdentityDb, token: str) -> dict[str, Any]:
    row = db.sessions.get(sessions.hash_token(token))
    assert row is not None
    return row


# --- timeouts -------------------------------------------------------------------------------


def test_a_session_dies_after_seven_idle_days_and_thirty_days_in_all(owner: SeededUser, db: IdentityDb) -> None:
    row = session_row(db, owner.token)
    created = row["created_at"]

    assert sessions.authenticate(owner.token, db, POLICY, now=created + 7 * 86400 - 1) is not None
    assert sessions.authenticate(owner.token, db, POLICY, now=created + 7 * 86400) is None

    # Used every six days, it still ends thirty days after sign-in.
    now = created
    for _ in range(4):
        now += 6 * 86400
        found = sessions.authenticate(owner.token, db, POLICY, now=now)
        assert found is not None
        sessions.touch(db, found.session, POLICY, now=now)
    assert now + POLICY.idle_seconds > created + 30 * 86400  # idle would allow more; the absolute end does not
    assert sessions.authenticate(owner.token, db, POLICY, now=created + 30 * 86400 - 1) is not None
    assert sessions.authenticate(owner.token, db, POLICY, now=created + 30 * 86400) is None


def test_the_idle_window_slides_at_most_once_a_minute(owner: SeededUser, db: IdentityDb) -> None:
    row = session_row(db, owner.token)
    start = row["last_seen_at"]

    sessions.touch(db, row, POLICY, now=start + 59)
    assert session_row(db, owner.token)["last_seen_at"] == start
    sessions.touch(db, row, POLICY, now=start + 60)
    moved = session_row(db, owner.token)
    assert moved["last_seen_at"] == start + 60
    # The TTL follows the idle deadline, never past the absolute end.
    assert moved["ttl"] == min(moved["expires_at"], start + 60 + POLICY.idle_seconds)
    # A concurrent request that read the old row does not write again.
    sessions.touch(db, row, POLICY, now=start + 61)
    assert session_row(db, owner.token)["last_seen_at"] == start + 60


def test_the_authorizer_slides_the_session(owner: SeededUser, db: IdentityDb, lambda_context: Any) -> None:
    db.sessions.repo.update((sessions.hash_token(owner.token),), "session", {"last_seen_at": int(time.time()) - 3600})
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is True
    assert session_row(db, owner.token)["last_seen_at"] >= int(time.time()) - 5


# --- the authorizer's context ---------------------------------------------------------------


def test_the_context_says_which_credential_was_used_and_never_carries_it(
    owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    bearer = authorize(lambda_context, token=owner.token)
    cookie = authorize(lambda_context, cookies={"__Host-nf_session": owner.token})

    assert bearer["context"]["credential"] == "bearer"
    assert cookie["context"]["credential"] == "cookie"
    assert bearer["context"]["auth_method"] == cookie["context"]["auth_method"] == "session"
    for result in (bearer, cookie):
        assert owner.token not in str(result)
        assert sessions.hash_token(owner.token) not in str(result)
    assert TenantContext.from_authorizer_context(cookie["context"]).credential == "cookie"


def test_a_malformed_bearer_header_does_not_fall_back_to_the_cookie(owner: SeededUser, lambda_context: Any) -> None:
    result = authorize(
        lambda_context, headers={"authorization": "Basic abc"}, cookies={"__Host-nf_session": owner.token}
    )
    assert result == {"isAuthorized": False}


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def browser(alice: str, lambda_context: Any) -> Reply:
    return sign_in(lambda_context)


def cookie_request(browser: Reply, lambda_context: Any, method: str, **headers: str) -> dict[str, Any]:
    jar = {"__Host-nf_session": browser.body["token"], "nf_csrf": browser.body["csrf_token"]}
    return authorize(lambda_context, cookies=jar, headers=headers, method=method)


def test_cookie_reads_need_no_csrf_token(browser: Reply, lambda_context: Any) -> None:
    assert cookie_request(browser, lambda_context, "GET")["isAuthorized"] is True


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cookie_writes_without_the_csrf_header_are_denied(browser: Reply, lambda_context: Any, method: str) -> None:
    assert cookie_request(browser, lambda_context, method) == {"isAuthorized": False}
    good = cookie_request(browser, lambda_context, method, **{"x-csrf-token": browser.body["csrf_token"]})
    assert good["isAuthorized"] is True


def test_a_csrf_header_must_match_the_cookie(browser: Reply, lambda_context: Any) -> None:
    assert cookie_request(browser, lambda_context, "POST", **{"x-csrf-token": "forged"}) == {"isAuthorized": False}


def test_a_planted_csrf_cookie_and_header_pair_is_not_enough(browser: Reply, alice: str, lambda_context: Any) -> None:
    """Double submit alone trusts any matching pair; ours must also be the token issued with the session."""
    other = sign_in(lambda_context)  # a csrf token that is valid, but for another session
    jar = {"__Host-nf_session": browser.body["token"], "nf_csrf": other.body["csrf_token"]}
    result = authorize(lambda_context, cookies=jar, headers={"x-csrf-token": other.body["csrf_token"]}, method="POST")
    assert result == {"isAuthorized": False}


def test_bearer_writes_need_no_csrf_token(browser: Reply, lambda_context: Any) -> None:
    assert authorize(lambda_context, token=browser.body["token"], method="POST")["isAuthorized"] is True


# --- listing and revoking -------------------------------------------------------------------


def test_listing_shows_the_callers_live_sessions_with_the_current_one_flagged(
    alice: str, owner: SeededUser, lambda_context: Any
) -> None:
    first, second = sign_in(lambda_context), sign_in(lambda_context)
    ctx = context_for(second.body["token"], lambda_context)

    listed = call("GET", "/api/v1/sessions", ctx, lambda_context).body["items"]

    assert {s["session_id"]: s["current"] for s in listed} == {
        first.body["session_id"]: False,
        second.body["session_id"]: True,
    }
    assert all(s["user_agent"] == "pytest" and s["ip_address"] == "127.0.0.1" for s in listed)
    assert owner.session_id not in str(listed)
    assert "token" not in str(listed)


def test_revoking_one_session_ends_it_and_another_users_session_is_a_404(
    identity_env: str, alice: str, owner: SeededUser, lambda_context: Any
) -> None:
    first, second = sign_in(lambda_context), sign_in(lambda_context)
    ctx = context_for(second.body["token"], lambda_context)

    foreign = call("DELETE", f"/api/v1/sessions/{owner.session_id}", ctx, lambda_context)
    unknown = call("DELETE", "/api/v1/sessions/ses_" + "0" * 32, ctx, lambda_context)
    done = call("DELETE", f"/api/v1/sessions/{first.body['session_id']}", ctx, lambda_context)
    again = call("DELETE", f"/api/v1/sessions/{first.body['session_id']}", ctx, lambda_context)

    assert (foreign.status, unknown.status, done.status, again.status) == (404, 404, 204, 404)
    assert {k: v for k, v in foreign.body.items() if k != "instance"} == {
        k: v for k, v in unknown.body.items() if k != "instance"
    }
    assert authorize(lambda_context, token=owner.token)["isAuthorized"] is True
    assert authorize(lambda_context, token=first.body["token"]) == {"isAuthorized": False}
    assert authorize(lambda_context, token=second.body["token"])["isAuthorized"] is True
    (revoked,) = events(identity_env, "session.revoked")
    assert revoked["data"] == {"session_id": first.body["session_id"], "user_id": ctx.user_id, "reason": "revoked"}


@pytest.mark.parametrize("session_id", ["not-a-session", "ses_XYZ", "ses_" + "g" * 32])
def test_malformed_session_ids_are_422(alice: str, lambda_context: Any, session_id: str) -> None:
    ctx = context_for(sign_in(lambda_context).body["token"], lambda_context)
    assert call("DELETE", f"/api/v1/sessions/{session_id}", ctx, lambda_context).status == 422


def test_sign_out_ends_the_current_session_and_clears_the_cookies(
    identity_env: str, alice: str, lambda_context: Any
) -> None:
    reply = sign_in(lambda_context)
    ctx = TenantContext.from_authorizer_context(
        cookie_request(reply, lambda_context, "POST", **{"x-csrf-token": reply.body["csrf_token"]})["context"]
    )
    out = call(
        "POST",
        "/api/v1/auth/sign-out",
        ctx,
        lambda_context,
        cookies={"__Host-nf_session": reply.body["token"], "nf_csrf": reply.body["csrf_token"]},
    )

    assert out.status == 204
    assert out.cookie("__Host-nf_session") == ""
    assert "Max-Age=0" in out.cookie_attributes("__Host-nf_session")
    assert out.cookie("nf_csrf") == ""
    assert "Max-Age=0" in out.cookie_attributes("nf_csrf")
    assert authorize(lambda_context, token=reply.body["token"]) == {"isAuthorized": False}
    assert [e["data"]["reason"] for e in events(identity_env, "session.revoked")] == ["sign-out"]


def test_sign_out_everywhere_ends_every_session_in_one_write(
    identity_env: str, alice: str, db: IdentityDb, lambda_context: Any
) -> None:
    replies = [sign_in(lambda_context) for _ in range(3)]
    ctx = context_for(replies[0].body["token"], lambda_context)

    assert call("POST", "/api/v1/sessions/revoke-all", ctx, lambda_context).status == 204

    assert all(authorize(lambda_context, token=r.body["token"]) == {"isAuthorized": False} for r in replies)
    assert sorted(e["data"]["reason"] for e in events(identity_env, "session.revoked")) == ["revoke-all"] * 3
    assert list(db.sessions.of_user(ctx.user_id)) == []
    assert sign_in(lambda_context).status == 200  # signing in again works


def test_the_generation_alone_ends_sessions_whose_rows_were_not_cleaned_up(
    alice: str, db: IdentityDb, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies = [sign_in(lambda_context) for _ in range(2)]
    ctx = context_for(replies[0].body["token"], lambda_context)
    monkeypatch.setattr(sessions, "clean_up", lambda *args, **kwargs: 0)  # as if clean-up crashed

    sessions.revoke_all(db, ctx)

    assert authorize(lambda_context, token=replies[1].body["token"]) == {"isAuthorized": False}


def test_clean_up_handles_more_sessions_than_one_transaction_holds(alice: str, db: IdentityDb) -> None:
    user = db.users.by_email(alice)
    assert user is not None
    for _ in range(120):
        sessions.issue(db, user_id=user["user_id"], tenant_id=user["home_tenant_id"])
    ctx = RequestInfo().actor(user["home_tenant_id"], user["user_id"])

    sessions.revoke_all(db, ctx)

    assert list(db.sessions.of_user(user["user_id"])) == []


# --- password change, disabling, rotation ---------------------------------------------------


def test_changing_the_password_ends_every_session_and_renews_this_one(
    identity_env: str, alice: str, lambda_context: Any
) -> None:
    other, this = sign_in(lambda_context), sign_in(lambda_context)
    ctx = context_for(this.body["token"], lambda_context)

    reply = call(
        "POST",
        "/api/v1/me/password",
        ctx,
        lambda_context,
        body={"current_password": GOOD_PASSWORD, "new_password": NEW_PASSWORD},
        headers={"content-type": "application/json", "authorization": f"Bearer {this.body['token']}"},
    )

    assert reply.status == 200
    assert reply.cookies == []  # a bearer client gets no cookies
    assert authorize(lambda_context, token=other.body["token"]) == {"isAuthorized": False}
    assert authorize(lambda_context, token=this.body["token"]) == {"isAuthorized": False}
    assert authorize(lambda_context, token=reply.body["token"])["isAuthorized"] is True
    assert (
        call(
            "POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": alice, "password": GOOD_PASSWORD}
        ).status
        == 401
    )
    assert sorted(e["data"]["reason"] for e in events(identity_env, "session.revoked")) == [
        "password-changed",
        "password-changed",
    ]
    assert [e["data"]["method"] for e in events(identity_env, "user.password_changed")] == ["change"]
    assert [e["data"]["template"] for e in events(identity_env, "email.requested")][-1] == "password-changed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "not my password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": GOOD_PASSWORD, "new_password": "password1"}, "new_password"),
        ({"current_password": GOOD_PASSWORD, "new_password": "alice@example.com"}, "new_password"),
        ({"current_password": GOOD_PASSWORD}, "new_password"),
    ],
)
def test_a_refused_password_change_is_a_422_and_changes_nothing(
    alice: str, lambda_context: Any, body: dict[str, str], field: str
) -> None:
    this = sign_in(lambda_context)
    ctx = context_for(this.body["token"], lambda_context)

    reply = call("POST", "/api/v1/me/password", ctx, lambda_context, body=body)

    assert reply.status == 422
    assert field in [e["field"] for e in reply.body["errors"]]
    assert authorize(lambda_context, token=this.body["token"])["isAuthorized"] is True


def test_a_cookie_client_gets_the_renewed_session_as_cookies(alice: str, lambda_context: Any) -> None:
    this = sign_in(lambda_context)
    jar = {"__Host-nf_session": this.body["token"], "nf_csrf": this.body["csrf_token"]}
    ctx = TenantContext.from_authorizer_context(
        cookie_request(this, lambda_context, "POST", **{"x-csrf-token": this.body["csrf_token"]})["context"]
    )
    reply = call(
        "POST",
        "/api/v1/me/password",
        ctx,
        lambda_context,
        body={"current_password": GOOD_PASSWORD, "new_password": NEW_PASSWORD},
        cookies=jar,
    )
    assert reply.status == 200
    assert reply.cookie("__Host-nf_session") == reply.body["token"] != this.body["token"]


def test_disabling_a_user_ends_their_sessions(
    identity_env: str, owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    accounts.disable_user(db, owner.user_id, reason="terms violation", actor=RequestInfo().actor(owner.tenant_id))

    assert authorize(lambda_context, token=owner.token) == {"isAuthorized": False}
    assert [e["data"]["reason"] for e in events(identity_env, "session.revoked")] == ["user-disabled"]
    assert len(events(identity_env, "user.disabled")) == 1


def test_rotation_replaces_a_live_session_and_refuses_an_ended_one(
    identity_env: str, owner: SeededUser, db: IdentityDb, lambda_context: Any
) -> None:
    old = session_row(db, owner.token)
    new = sessions.rotate(db, old, policy=POLICY, request=RequestInfo())

    assert (new.user_id, new.tenant_id) == (owner.user_id, owner.tenant_id)
    assert authorize(lambda_context, token=owner.token) == {"isAuthorized": False}
    assert authorize(lambda_context, token=new.token)["isAuthorized"] is True
    with pytest.raises(Unauthorized):
        sessions.rotate(db, old, policy=POLICY, request=RequestInfo())
