"""Two-factor authentication through the front door of the local cloud:

enrol → confirm → sign-in answers a challenge → the code finishes it (session + cookies);
step-up with the password alone is refused, with a code it works, then a sensitive action.

Codes are computed from the secret with identity's own TOTP function at the *handlers'* time.
The handlers read the real clock (`time.time()`); `cloud.clock` warps only what the local cloud
drives itself (queues, schedules, TTL, authorizer caches), so it is not the time to use here.
Each code must belong to a later time step than the last accepted one (replay protection), and
the server accepts one step either side, so `next_code` walks the steps forward.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from functions.identity.logic import totp
from tests.support.cloud import Api, Reply

PASSWORD = "correct horse battery staple"


def new_email() -> str:
    return f"two-factor-{uuid.uuid4().hex[:10]}@example.com"


class Authenticator:
    """An authenticator app that never shows a code of a step the server has already accepted."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.last_step: int | None = None

    def next_code(self) -> str:
        current = totp.time_step(time.time())
        step = current - 1 if self.last_step is None else max(current - 1, self.last_step + 1)
        assert step <= current + 1, "no unused step left within the server's drift window"
        self.last_step = step
        return totp.code_at(self.secret, step * totp.PERIOD)

    def wrong_code(self) -> str:
        current = totp.time_step(time.time())
        valid = {totp.code_at(self.secret, step * totp.PERIOD) for step in range(current - 2, current + 3)}
        return next(code for code in ("000000", "111111", "222222") if code not in valid)


def sign_in(anonymous: Api, email: str, password: str = PASSWORD) -> Reply:
    return anonymous.post("/api/v1/auth/sign-in", {"email": email, "password": password})


def test_enrol_then_sign_in_needs_the_code_and_step_up_needs_the_second_factor(cloud: Any, anonymous: Api) -> None:
    email = new_email()
    assert anonymous.post("/api/v1/auth/sign-up", {"email": email, "password": PASSWORD}).status == 202
    first = sign_in(anonymous, email)
    assert first.status == 200, first.text
    laptop = Api(cloud.url, first.json["token"])  # just signed in: stepped up

    # Given two-factor enrolled and confirmed with a code from the app
    assert laptop.get("/api/v1/me/two-factor").json == {"enabled": False, "recovery_codes_left": 0}
    enrolled = laptop.post("/api/v1/me/two-factor/enrol")
    assert enrolled.status == 200, enrolled.text
    assert enrolled.json["otpauth_uri"].startswith("otpauth://totp/Ninefold:")
    app = Authenticator(enrolled.json["secret"])
    confirmed = laptop.post("/api/v1/me/two-factor/confirm", {"code": app.next_code()})
    assert confirmed.status == 200, confirmed.text
    recovery_codes = confirmed.json["recovery_codes"]
    assert len(recovery_codes) == 10
    assert laptop.get("/api/v1/me/two-factor").json == {"enabled": True, "recovery_codes_left": 10}

    # When the owner signs in with the right password, there is no session yet, only a challenge
    password_only = sign_in(anonymous, email)
    assert password_only.status == 200, password_only.text
    assert password_only.json["status"] == "two-factor-required"
    assert "token" not in password_only.json
    assert password_only.cookie("__Host-nf_session") is None
    challenge = password_only.json["challenge"]

    # and a wrong code is refused, the right one opens the session (with the browser cookies)
    wrong = anonymous.post("/api/v1/auth/sign-in/two-factor", {"challenge": challenge, "code": app.wrong_code()})
    assert wrong.status == 422
    assert wrong.headers["Content-Type"] == "application/problem+json"
    done = anonymous.post("/api/v1/auth/sign-in/two-factor", {"challenge": challenge, "code": app.next_code()})
    assert done.status == 200, done.text
    assert done.cookie("__Host-nf_session") == done.json["token"]
    phone = Api(cloud.url, done.json["token"])
    assert phone.get("/api/v1/me").json["email"] == email
    reused = anonymous.post("/api/v1/auth/sign-in/two-factor", {"challenge": challenge, "code": app.wrong_code()})
    assert reused.status == 401
    assert reused.json["type"].endswith("/invalid-challenge")

    # Then stepping up needs the second factor: the password alone is refused
    refused = phone.post("/api/v1/me/step-up", {"password": PASSWORD})
    assert refused.status == 422
    assert refused.json["type"].endswith("/second-factor-required")
    stepped = phone.post("/api/v1/me/step-up", {"code": app.next_code()})
    assert stepped.status == 200, stepped.text

    # and the stepped-up session performs the sensitive actions
    regenerated = phone.post("/api/v1/me/two-factor/recovery-codes")
    assert regenerated.status == 200, regenerated.text
    assert not set(regenerated.json["recovery_codes"]) & set(recovery_codes)
    changed = phone.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "another long passphrase"}
    )
    assert changed.status == 200, changed.text

    # A recovery code from the first set no longer works; one from the new set signs in, once
    again = sign_in(anonymous, email, "another long passphrase").json["challenge"]
    old = anonymous.post("/api/v1/auth/sign-in/two-factor", {"challenge": again, "recovery_code": recovery_codes[0]})
    assert old.status == 422
    new = regenerated.json["recovery_codes"][0]
    assert anonymous.post("/api/v1/auth/sign-in/two-factor", {"challenge": again, "recovery_code": new}).status == 200
