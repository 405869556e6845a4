"""Sign-up, email verification and password reset, through identity's API handler (moto in-process)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import accounts, tokens, workspaces
from functions.identity.logic.common import RequestInfo, digest
from functions.identity.logic.sessions import hash_token
from functions.identity.models.api import PasswordResetConfirm, VerifyEmailRequest
from functions.identity.models.errors import InvalidToken
from ninefold_core.dynamo import ConditionFailed
from tests.unit.identity.conftest import (
    APP_URL,
    GOOD_PASSWORD,
    Reply,
    authorize,
    call,
    context_for,
    emails_to,
    events,
    scan,
    token_from_link,
)

NEW_PASSWORD = "a brand new passphrase"


def sign_up(
    lambda_context: Any, email: str = "alice@example.com", password: str = GOOD_PASSWORD, **extra: Any
) -> Reply:
    return call(
        "POST", "/api/v1/auth/sign-up", None, lambda_context, body={"email": email, "password": password, **extra}
    )


def sign_in(
    lambda_context: Any, email: str = "alice@example.com", password: str = GOOD_PASSWORD, **kwargs: Any
) -> Reply:
    return call(
        "POST", "/api/v1/auth/sign-in", None, lambda_context, body={"email": email, "password": password}, **kwargs
    )


def verification_token(table: str, email: str) -> str:
    (mail, *_) = reversed(emails_to(table, email, "verify-email"))
    return token_from_link(mail["variables"]["link"])


def test_sign_up_creates_the_user_their_workspace_and_a_verification_email(
    identity_env: str, db: IdentityDb, lambda_context: Any
) -> None:
    reply = sign_up(lambda_context, email="  Alice@Example.com ", name="Alice", workspace_name="Alice's")

    assert reply.status == 202
    assert reply.body["status"] == "accepted"
    user = db.users.by_email("alice@example.com")
    assert user is not None
    assert user["email_verified"] is False
    assert user["password_hash"].startswith("$argon2id$")
    workspace = db.workspace(RequestInfo().actor(user["home_tenant_id"])).get()
    assert workspace is not None
    assert workspace["name"] == "Alice's"
    types = [e["metadata"]["type"] for e in events(identity_env)]
    assert sorted(types) == ["email.requested", "user.signed_up", "workspace.created"]
    (mail,) = emails_to(identity_env, "alice@example.com", "verify-email")
    assert mail["variables"]["link"].startswith(f"{APP_URL}/app/verify-email#token=nf_v_")
    assert all(e["metadata"]["tenant_id"] == user["home_tenant_id"] for e in events(identity_env))


def test_signing_up_again_answers_the_same_and_emails_the_owner_instead(
    identity_env: str, db: IdentityDb, lambda_context: Any
) -> None:
    first = sign_up(lambda_context)
    again = sign_up(lambda_context, email="ALICE@example.com", password="another good passphrase")

    assert (again.status, again.body) == (first.status, first.body)
    assert len(emails_to(identity_env, "alice@example.com", "sign-up-attempt")) == 1
    # Still one account, with the first password.
    owners = [i for i in scan(identity_env) if str(i["pk"]).startswith("P#user#")]
    assert len(owners) == 1
    assert sign_in(lambda_context).status == 200


def test_no_event_or_log_field_carries_a_password_token_or_hash(identity_env: str, lambda_context: Any) -> None:
    sign_up(lambda_context)
    token = verification_token(identity_env, "alice@example.com")
    signed_in = sign_in(lambda_context)
    everything = str([e for e in events(identity_env) if e["metadata"]["type"] != "email.requested"])

    for secret in (GOOD_PASSWORD, token, digest(token), signed_in.body["token"], hash_token(signed_in.body["token"])):
        assert secret not in everything
    assert "$argon2" not in everything


def test_the_verification_link_verifies_once(identity_env: str, db: IdentityDb, lambda_context: Any) -> None:
    sign_up(lambda_context)
    token = verification_token(identity_env, "alice@example.com")

    first = call("POST", "/api/v1/auth/verify-email", None, lambda_context, body={"token": token})
    second = call("POST", "/api/v1/auth/verify-email", None, lambda_context, body={"token": token})

    assert (first.status, first.body) == (200, {"email_verified": True})
    assert second.status == 422
    assert second.body["errors"][0]["field"] == "token"
    user = db.users.by_email("alice@example.com")
    assert user is not None
    assert user["email_verified"] is True
    assert len(events(identity_env, "user.email_verified")) == 1


def test_a_token_racing_itself_commits_once(identity_env: str, db: IdentityDb) -> None:
    """Two requests read the token before either consumes it: the conditional delete lets one through."""
    user = db.users.by_email("nobody@example.com")
    assert user is None
    issued = tokens.issue(db, tokens.VERIFY_EMAIL, user_id="usr_x", email="x@example.com", now=time.time(), lifetime=60)
    db.transact([issued.op])
    _, first = tokens.redeem(db, tokens.VERIFY_EMAIL, issued.token, now=time.time())
    _, second = tokens.redeem(db, tokens.VERIFY_EMAIL, issued.token, now=time.time())

    db.transact([first])
    with pytest.raises(ConditionFailed):
        db.transact([second])


@pytest.mark.parametrize("purpose", [tokens.VERIFY_EMAIL, tokens.RESET_PASSWORD])
def test_tokens_expire_and_are_stored_only_hashed_with_a_ttl(identity_env: str, db: IdentityDb, purpose: Any) -> None:
    now = 1_700_000_000.0
    lifetime = {tokens.VERIFY_EMAIL: 24 * 3600, tokens.RESET_PASSWORD: 3600}[purpose]
    issued = tokens.issue(db, purpose, user_id="usr_x", email="x@example.com", now=now, lifetime=lifetime)
    db.transact([issued.op])

    (row,) = [i for i in scan(identity_env) if str(i["pk"]).startswith("P#token#")]
    assert row["pk"] == f"P#token#{digest(issued.token)}"
    assert issued.token not in str(row)
    assert row["ttl"] == row["expires_at"] == int(now) + lifetime
    assert len(issued.token) - len(tokens.PREFIXES[purpose]) >= 43  # 32 random bytes, base64url

    tokens.redeem(db, purpose, issued.token, now=now + lifetime - 1)
    with pytest.raises(InvalidToken):
        tokens.redeem(db, purpose, issued.token, now=now + lifetime)


def test_a_token_for_one_purpose_is_useless_for_another(identity_env: str, db: IdentityDb) -> None:
    issued = tokens.issue(db, tokens.VERIFY_EMAIL, user_id="usr_x", email="x@example.com", now=time.time(), lifetime=60)
    db.transact([issued.op])
    with pytest.raises(InvalidToken):
        tokens.redeem(db, tokens.RESET_PASSWORD, issued.token, now=time.time())
    with pytest.raises(InvalidToken):
        tokens.redeem(db, tokens.RESET_PASSWORD, "nf_r_" + issued.token.removeprefix("nf_v_"), now=time.time())


def test_an_expired_verification_link_is_refused(identity_env: str, db: IdentityDb, lambda_context: Any) -> None:
    sign_up(lambda_context)
    token = verification_token(identity_env, "alice@example.com")
    with pytest.raises(InvalidToken):
        accounts.verify_email(
            db, VerifyEmailRequest(token=token), request=RequestInfo(), now=time.time() + 24 * 3600 + 1
        )


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "nf_v_" + "x" * 300}, {"token": "has spaces in it"}, {"token": 42}, {"tok": "x"}],
)
def test_malformed_verification_requests_are_422(identity_env: str, lambda_context: Any, body: Any) -> None:
    reply = call("POST", "/api/v1/auth/verify-email", None, lambda_context, body=body)
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_password_reset_answers_the_same_for_unknown_addresses(identity_env: str, lambda_context: Any) -> None:
    sign_up(lambda_context)
    known = call(
        "POST", "/api/v1/auth/password-reset/request", None, lambda_context, body={"email": "alice@example.com"}
    )
    unknown = call(
        "POST", "/api/v1/auth/password-reset/request", None, lambda_context, body={"email": "eve@example.com"}
    )

    assert (known.status, known.body) == (unknown.status, unknown.body) == (202, known.body)
    assert len(emails_to(identity_env, "alice@example.com", "reset-password")) == 1
    assert emails_to(identity_env, "eve@example.com") == []
    assert len(events(identity_env, "user.password_reset_requested")) == 1


def test_a_reset_link_sets_the_password_once_ends_every_session_and_proves_the_address(
    identity_env: str, db: IdentityDb, lambda_context: Any
) -> None:
    sign_up(lambda_context)
    session = sign_in(lambda_context).body["token"]
    call("POST", "/api/v1/auth/password-reset/request", None, lambda_context, body={"email": "alice@example.com"})
    (mail,) = emails_to(identity_env, "alice@example.com", "reset-password")
    token = token_from_link(mail["variables"]["link"])
    assert mail["variables"]["link"].startswith(f"{APP_URL}/app/reset-password#token=nf_r_")

    body = {"token": token, "new_password": NEW_PASSWORD}
    done = call("POST", "/api/v1/auth/password-reset/confirm", None, lambda_context, body=body)
    again = call("POST", "/api/v1/auth/password-reset/confirm", None, lambda_context, body=body)

    assert done.status == 200
    assert again.status == 422
    assert authorize(lambda_context, token=session) == {"isAuthorized": False}
    assert sign_in(lambda_context).status == 401
    assert sign_in(lambda_context, password=NEW_PASSWORD).status == 200
    user = db.users.by_email("alice@example.com")
    assert user is not None
    assert user["email_verified"] is True
    assert [e["data"]["method"] for e in events(identity_env, "user.password_changed")] == ["reset"]
    assert [e["data"]["reason"] for e in events(identity_env, "session.revoked")] == ["password-reset"]


def test_a_reset_link_expires_after_an_hour(identity_env: str, db: IdentityDb, lambda_context: Any) -> None:
    sign_up(lambda_context)
    call("POST", "/api/v1/auth/password-reset/request", None, lambda_context, body={"email": "alice@example.com"})
    (mail,) = emails_to(identity_env, "alice@example.com", "reset-password")
    body = PasswordResetConfirm(token=token_from_link(mail["variables"]["link"]), new_password=NEW_PASSWORD)
    with pytest.raises(InvalidToken):
        accounts.reset_password(db, body, request=RequestInfo(), now=time.time() + 3601)


def test_a_failed_sign_up_writes_nothing(
    identity_env: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("workspace creation failed")

    monkeypatch.setattr(workspaces, "create_ops", broken)
    reply = sign_up(lambda_context)

    assert reply.status == 500
    assert [i for i in scan(identity_env) if not str(i["pk"]).startswith("P#throttle#")] == []


def test_bad_sign_up_input_is_a_422_naming_the_field_and_writes_nothing(identity_env: str, lambda_context: Any) -> None:
    reply = sign_up(lambda_context, password="password123")
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["password"]
    assert scan(identity_env) == []


@pytest.mark.parametrize(
    ("content_type", "raw_body"),
    [
        # What cross-site HTML forms can send without a CORS preflight:
        ("text/plain", '{"email": "alice@example.com", "password": "x=' + GOOD_PASSWORD + '"}'),
        ("application/x-www-form-urlencoded", "email=alice%40example.com&password=" + GOOD_PASSWORD.replace(" ", "+")),
        ("", '{"email": "alice@example.com", "password": "' + GOOD_PASSWORD + '"}'),
    ],
)
def test_public_auth_routes_take_json_only(
    identity_env: str, lambda_context: Any, content_type: str, raw_body: str
) -> None:
    """Refusing non-JSON bodies closes login CSRF through a cross-site form post."""
    sign_up(lambda_context)
    reply = call(
        "POST", "/api/v1/auth/sign-in", None, lambda_context, raw_body=raw_body, headers={"content-type": content_type}
    )
    # Refused either way: 415 from the route's check, or 422 where the resolver's form parsing fails first.
    assert reply.status in (415, 422)
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert events(identity_env, "session.created") == []


def test_resending_verification_sends_a_new_link(identity_env: str, db: IdentityDb, lambda_context: Any) -> None:
    sign_up(lambda_context)
    ctx = context_for(sign_in(lambda_context).body["token"], lambda_context)
    reply = call("POST", "/api/v1/me/verify-email", ctx, lambda_context)
    assert reply.status == 202
    assert len(emails_to(identity_env, "alice@example.com", "verify-email")) == 2
