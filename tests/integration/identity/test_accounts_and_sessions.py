"""Accounts and sessions through the front door of the local cloud (the synthesized templates):

sign-up → the verification email → verify → sign in → list sessions → revoke → denied;
browser cookies with CSRF; password reset; brute-force throttling with 429 + Retry-After.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.cloud import Api, Reply, requires_system
from tests.support.mailbox import Mailbox

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different long passphrase"


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(scope="module")
def mailbox(cloud: Any) -> Mailbox:
    return Mailbox(cloud)


def sign_up(anonymous: Api, email: str, password: str = PASSWORD) -> Reply:
    return anonymous.post("/api/v1/auth/sign-up", {"email": email, "password": password, "name": "Test Person"})


def sign_in(anonymous: Api, email: str, password: str = PASSWORD) -> Reply:
    return anonymous.post("/api/v1/auth/sign-in", {"email": email, "password": password})


def bearer(cloud: Any, token: str) -> Api:
    return Api(cloud.url, token)


def test_sign_up_verify_sign_in_list_and_revoke(cloud: Any, anonymous: Api, mailbox: Mailbox) -> None:
    email = new_email()

    # Given a new account, signed up through the API
    signed_up = sign_up(anonymous, email.upper())
    assert signed_up.status == 202, signed_up.text

    # When its owner follows the link in the verification email
    token = mailbox.token(email, "verify-email")
    verified = anonymous.post("/api/v1/auth/verify-email", {"token": token})
    assert (verified.status, verified.json) == (200, {"email_verified": True})
    assert anonymous.post("/api/v1/auth/verify-email", {"token": token}).status == 422  # single use

    # and signs in on two devices
    laptop, phone = sign_in(anonymous, email), sign_in(anonymous, email)
    assert laptop.status == phone.status == 200, laptop.text
    me = bearer(cloud, laptop.json["token"]).get("/api/v1/me")
    assert me.status == 200
    assert (me.json["email"], me.json["email_verified"], me.json["roles"], me.json["credential"]) == (
        email,
        True,
        ["owner"],
        "bearer",
    )

    # Then both sessions are listed, the current one flagged
    listed = bearer(cloud, laptop.json["token"]).get("/api/v1/sessions")
    assert listed.status == 200
    flags = {s["session_id"]: s["current"] for s in listed.json["items"]}
    assert flags == {laptop.json["session_id"]: True, phone.json["session_id"]: False}

    # and revoking the phone's session from the laptop denies the phone's token at once
    revoked = bearer(cloud, laptop.json["token"]).delete(f"/api/v1/sessions/{phone.json['session_id']}")
    assert revoked.status == 204
    assert bearer(cloud, phone.json["token"]).get("/api/v1/me").status == 403
    assert bearer(cloud, laptop.json["token"]).get("/api/v1/me").status == 200


def test_signing_up_twice_answers_the_same_and_warns_the_owner(anonymous: Api, mailbox: Mailbox) -> None:
    email = new_email()
    first = sign_up(anonymous, email)
    second = sign_up(anonymous, email, password="someone else's passphrase")

    assert (first.status, first.json) == (second.status, second.json)
    assert len(mailbox.messages(email, "verify-email")) == 1
    assert len(mailbox.messages(email, "sign-up-attempt")) == 1
    assert sign_in(anonymous, email, "someone else's passphrase").status == 401


def test_a_browser_session_uses_cookies_and_writes_need_the_csrf_token(cloud: Any, anonymous: Api) -> None:
    email = new_email()
    assert sign_up(anonymous, email).status == 202
    signed_in = sign_in(anonymous, email)
    session, csrf = signed_in.cookie("__Host-nf_session"), signed_in.cookie("nf_csrf")
    assert session == signed_in.json["token"]
    assert csrf == signed_in.json["csrf_token"]
    jar = {"__Host-nf_session": session, "nf_csrf": csrf}

    me = anonymous.get("/api/v1/me", cookies=jar)
    assert (me.status, me.json["credential"]) == (200, "cookie")

    forged = anonymous.patch("/api/v1/workspace", {"name": "Forged"}, cookies=jar)
    assert forged.status == 403, "a cookie write without X-CSRF-Token never reaches the handler"
    wrong = anonymous.patch("/api/v1/workspace", {"name": "Forged"}, cookies=jar, headers={"X-CSRF-Token": "nope"})
    assert wrong.status == 403
    renamed = anonymous.patch("/api/v1/workspace", {"name": "Mine"}, cookies=jar, headers={"X-CSRF-Token": csrf})
    assert (renamed.status, renamed.json["name"]) == (200, "Mine")

    out = anonymous.post("/api/v1/auth/sign-out", cookies=jar, headers={"X-CSRF-Token": csrf})
    assert out.status == 204
    assert out.cookie("__Host-nf_session") == ""
    assert anonymous.get("/api/v1/me", cookies=jar).status == 403


def test_a_password_reset_ends_every_session(cloud: Any, anonymous: Api, mailbox: Mailbox) -> None:
    email = new_email()
    assert sign_up(anonymous, email).status == 202
    old_session = sign_in(anonymous, email).json["token"]

    asked = anonymous.post("/api/v1/auth/password-reset/request", {"email": email})
    unknown = anonymous.post("/api/v1/auth/password-reset/request", {"email": new_email()})
    assert (asked.status, asked.json) == (unknown.status, unknown.json)

    token = mailbox.token(email, "reset-password")
    reset = anonymous.post("/api/v1/auth/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD})
    assert reset.status == 200, reset.text

    assert bearer(cloud, old_session).get("/api/v1/me").status == 403
    assert sign_in(anonymous, email, NEW_PASSWORD).status == 200


def test_wrong_passwords_are_throttled_with_429_and_retry_after(anonymous: Api) -> None:
    email = new_email()
    assert sign_up(anonymous, email).status == 202

    for _ in range(5):
        assert sign_in(anonymous, email, "not the password").status == 401
    blocked = sign_in(anonymous, email, PASSWORD)

    assert blocked.status == 429
    assert blocked.headers["Content-Type"] == "application/problem+json"
    assert int(blocked.headers["Retry-After"]) >= 1


def test_bad_input_to_the_public_routes_is_a_problem_not_a_500(anonymous: Api) -> None:
    for path, body in [
        ("/api/v1/auth/sign-up", {"email": "not-an-email", "password": PASSWORD}),
        ("/api/v1/auth/sign-up", {"email": new_email(), "password": "password"}),
        ("/api/v1/auth/sign-in", {"email": new_email()}),
        ("/api/v1/auth/verify-email", {"token": "nf_v_unknown-token-value"}),
        ("/api/v1/auth/password-reset/confirm", {"token": "nf_r_unknown-token-value", "new_password": NEW_PASSWORD}),
    ]:
        reply = anonymous.post(path, body)
        assert reply.status == 422, (path, reply.text)
        assert reply.headers["Content-Type"] == "application/problem+json"
    broken = anonymous.request(
        "POST", "/api/v1/auth/sign-in", data="{nope", headers={"Content-Type": "application/json"}
    )
    assert 400 <= broken.status < 500


@requires_system("safety")
def test_the_audit_log_records_the_account_events_with_links_masked(cloud: Any, anonymous: Api) -> None:
    email = new_email()
    assert sign_up(anonymous, email).status == 202
    owner = bearer(cloud, sign_in(anonymous, email).json["token"])
    cloud.wait_idle(timeout=30)

    items = owner.get("/api/v1/audit-events?limit=100").json["items"]
    types = {item["type"] for item in items}
    assert {"workspace.created", "user.signed_up", "email.requested", "session.created"} <= types
    (mail,) = [item for item in items if item["type"] == "email.requested"]
    assert mail["data"]["variables"] == {"link": "[redacted]"}


def test_the_local_clouds_dev_mailbox_records_the_verification_email(cloud: Any, anonymous: Api) -> None:
    email = new_email()
    assert sign_up(anonymous, email).status == 202

    # The outbox relay puts `email.requested` on the bus; the local cloud records it there.
    for _ in range(40):
        cloud.wait_idle()
        if cloud.mailbox(email):
            break
    messages = cloud.mailbox(email)
    assert [m["template"] for m in messages] == ["verify-email"]
    assert "/app/verify-email#token=" in messages[0]["variables"]["link"]
    assert messages[0]["occurred_at"]

    served = anonymous.get(f"/_local/mailbox?to={email}")
    assert served.status == 200
    assert served.json == messages
    assert all(m["to"] != email for m in cloud.mailbox("someone-else@example.com"))
