"""Two-factor in the browser: turn on an authenticator app from the Security page (the secret is
shown once, the first code confirms it, recovery codes follow), then signing in asks for a code
after the password, and a code from the app lets the person in."""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import Page, expect

from functions.identity.logic import totp
from tests.e2e.conftest import DevServer
from tests.e2e.test_identity_journey import PASSWORD, sign_in
from tests.e2e.test_team_journey import nav, sign_up_and_verify


def test_turn_on_two_factor_then_sign_in_with_a_code(page: Page, dev_server: DevServer) -> None:
    email = f"tfa-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_and_verify(page, dev_server, email)
    page.goto(dev_server.url + "/app/#/sign-in")
    sign_in(page, email, PASSWORD)
    expect(page.locator("#who")).to_contain_text(email)

    nav(page, "Security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#security-secret")).not_to_have_text("")
    secret = page.locator("#security-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="Turn on two-factor").click()
    expect(page.locator("#security-codes li")).to_have_count(10)

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, email, PASSWORD)
    expect(page.locator("#sign-in-2fa-form")).to_be_visible()
    expect(page.locator("#who")).to_have_text("")  # no session before the second factor
    # The next time step: the code used to turn it on cannot be replayed.
    page.get_by_label("Authenticator code").fill(totp.code_at(secret, time.time() + totp.PERIOD))
    page.locator("#sign-in-2fa-form").get_by_role("button", name="Verify").click()
    expect(page.locator("#who")).to_contain_text(email)
