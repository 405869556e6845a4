"""The identity journey in the browser: sign up → the verification link from the dev mailbox →
verified → sign in (cookie session) → rename the workspace → the audit log shows it → the
sessions page lists this session → sign out → a protected page asks to sign in again.
And a wrong password shows an error and leaves no session."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import DevServer

PASSWORD = "correct horse battery staple"


def mailbox(server: DevServer, to: str) -> list[dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{server.url}/_local/mailbox?to={urllib.parse.quote(to)}", timeout=10) as reply:
        messages: list[dict[str, Any]] = json.loads(reply.read())
        return messages


def emailed_link(page: Page, server: DevServer, to: str, template: str = "verify-email") -> str:
    """The newest `template` link sent to `to`, pointed at the local front door."""
    for _ in range(80):
        found = [m for m in mailbox(server, to) if m["template"] == template]
        if found:
            link = str(found[0]["variables"]["link"])
            # The link names the configured app URL; its page and token are what matter locally.
            page_and_token = link.split("/app/", 1)[1]
            return f"{server.url}/app/{page_and_token}"
        page.wait_for_timeout(250)
    raise AssertionError(f"no {template} message for {to} in the dev mailbox")


def session_cookie(context: BrowserContext) -> list[str]:
    return [c["name"] for c in context.cookies() if c["name"] == "__Host-nf_session" and c["value"]]


def sign_in(page: Page, email: str, password: str) -> None:
    form = page.locator("#sign-in-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def test_sign_up_verify_sign_in_rename_audit_sessions_and_sign_out(page: Page, dev_server: DevServer) -> None:
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"

    # Sign up
    page.goto(dev_server.url + "/app/#/sign-up")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    form = page.locator("#sign-up-form")
    form.get_by_label("Your name").fill("Journey Person")
    form.get_by_label("Workspace name").fill("Journey Workspace")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # Follow the verification link from the dev mailbox
    page.goto(emailed_link(page, dev_server, email))
    expect(page.locator("#verify-status")).to_have_text("Your email address is verified.")

    # Sign in with email and password: a cookie session
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, email, PASSWORD)
    expect(page.locator("#who")).to_contain_text(f"{email} in Journey Workspace")
    assert session_cookie(page.context), "the __Host-nf_session cookie was not kept"

    # Rename the workspace (a write: X-CSRF-Token from nf_csrf) and see it in the audit log
    expect(page.locator("#rename-form").get_by_label("Name")).to_have_value("Journey Workspace")
    page.locator("#rename-form").get_by_label("Name").fill("Renamed by the journey")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#rename-status")).to_have_text("Renamed to Renamed by the journey.")
    audit = page.get_by_role("table", name="Audit log")
    for _ in range(40):
        page.get_by_role("button", name="Refresh").click()
        if audit.get_by_text("workspace.renamed").count():
            break
        page.wait_for_timeout(250)
    expect(audit.get_by_role("row").filter(has_text="workspace.renamed").first).to_contain_text(
        "Renamed by the journey"
    )

    # The sessions page lists this session, flagged
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Sessions").click()
    sessions = page.get_by_role("table", name="Sessions")
    expect(sessions.get_by_role("row").filter(has_text="(this session)")).to_have_count(1)

    # Sign out; a protected page asks to sign in again
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert not session_cookie(page.context)
    page.goto(dev_server.url + "/app/#/sessions")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#notice")).to_have_text("Please sign in to continue.")
    expect(page.get_by_role("table", name="Sessions")).to_be_hidden()


def test_a_wrong_password_shows_an_error_and_no_session(page: Page, dev_server: DevServer) -> None:
    page.goto(dev_server.url + "/app/#/sign-in")
    sign_in(page, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "not the right password at all")
    expect(page.locator("#sign-in-error")).to_have_text("That email and password do not match an account.")
    assert not session_cookie(page.context)
    expect(page.locator("#who")).to_have_text("")


def test_reset_a_forgotten_password_then_change_it(page: Page, dev_server: DevServer) -> None:
    email = f"reset-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(dev_server.url + "/app/#/sign-up")
    form = page.locator("#sign-up-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # Forgot the password: request a link, follow it, choose a new one
    page.goto(dev_server.url + "/app/#/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.locator("#reset-request-form").get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_link(page, dev_server, email, "reset-password"))
    page.locator("#reset-confirm-form").get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("#notice")).to_have_text("Your password was changed. Sign in with the new one.")

    # The old password no longer works; the new one does
    sign_in(page, email, PASSWORD)
    expect(page.locator("#sign-in-error")).to_have_text("That email and password do not match an account.")
    sign_in(page, email, "a brand new passphrase")
    expect(page.locator("#who")).to_contain_text(email)

    # Change it while signed in: every session ends, this one included
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Password").click()
    password_form = page.locator("#password-form")
    password_form.get_by_label("Current password").fill("a brand new passphrase")
    password_form.get_by_label("New password").fill("yet another long passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, email, "yet another long passphrase")
    expect(page.locator("#who")).to_contain_text(email)
