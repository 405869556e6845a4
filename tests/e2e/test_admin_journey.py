"""Impersonation in the browser: the platform admin `make dev` seeds signs in, finds a user by
email, acts as them with a written reason (the console shows a banner the whole time, naming who
and why), then ends it and is signed out."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from scripts.dev_seed import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.conftest import DevServer
from tests.e2e.test_identity_journey import sign_in
from tests.e2e.test_team_journey import nav, sign_up_and_verify


def test_an_admin_impersonates_a_user_under_a_banner_and_ends_it(page: Page, dev_server: DevServer) -> None:
    target = f"customer-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_and_verify(page, dev_server, target)

    page.goto(dev_server.url + "/app/#/sign-in")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    expect(page.locator("#who")).to_contain_text(ADMIN_EMAIL)
    expect(page.locator("#impersonation-banner")).to_be_hidden()

    nav(page, "Admin")
    page.get_by_label("Find a user by email").fill(target)
    page.locator("#admin-find-form").get_by_role("button", name="Find").click()
    expect(page.locator("#admin-user-details")).to_contain_text(target)
    page.get_by_label("Reason (10 to 500 characters)").fill("Support ticket 4711: cannot see invoices")
    page.get_by_role("button", name="Impersonate").click()

    banner = page.locator("#impersonation-banner")
    expect(banner).to_contain_text(f"You are acting as {target}")
    expect(banner).to_contain_text("Support ticket 4711")
    expect(page.locator("#who")).to_contain_text(target)

    page.get_by_role("button", name="End impersonation and sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(banner).to_be_hidden()
