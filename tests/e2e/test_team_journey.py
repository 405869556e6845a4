"""The team journey in two browsers: an owner signs up, verifies and signs in, creates a workspace
and switches to it, invites a member by email; the member opens the link from the dev mailbox in
their own browser and joins with a new password; a member may not rename the workspace until the
owner makes them an admin, and then they can, in the same browser session, without signing in again."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DevServer
from tests.e2e.test_identity_journey import PASSWORD, emailed_link, sign_in


def sign_up_and_verify(page: Page, server: DevServer, email: str) -> None:
    page.goto(server.url + "/app/#/sign-up")
    form = page.locator("#sign-up-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_link(page, server, email))
    expect(page.locator("#verify-status")).to_have_text("Your email address is verified.")


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=name, exact=True).click()


def test_invite_accept_and_a_role_change_reaches_the_members_browser(
    page: Page, browser: Browser, dev_server: DevServer
) -> None:
    run = uuid.uuid4().hex[:8]
    owner_email, member_email = f"owner-{run}@example.com", f"member-{run}@example.com"

    # The owner signs up, verifies, signs in
    sign_up_and_verify(page, dev_server, owner_email)
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, owner_email, PASSWORD)
    expect(page.locator("#who")).to_contain_text(owner_email)

    # Creates a workspace and switches to it
    nav(page, "Workspaces")
    page.locator("#create-workspace-form").get_by_label("Workspace name").fill(f"Team {run}")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.locator("#create-workspace-status")).to_have_text(f"Created Team {run}.")
    page.get_by_role("button", name=f"Switch to Team {run}").click()
    expect(page.locator("#who")).to_contain_text(f"in Team {run}")

    # Invites a member
    nav(page, "Members")
    invite = page.locator("#invite-form")
    invite.get_by_label("Email").fill(member_email)
    invite.get_by_label("Role").select_option("member")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#invite-status")).to_have_text(f"Invitation sent to {member_email}.")
    invitations = page.get_by_role("table", name="Invitations")
    expect(invitations.get_by_role("row").filter(has_text=member_email)).to_contain_text("pending")

    # The member opens the link in their own browser and joins with a new account
    member_context = browser.new_context()
    try:
        member = member_context.new_page()
        member.goto(emailed_link(member, dev_server, member_email, "invitation"))
        expect(member.locator("#invitation-summary")).to_contain_text(f"invited to Team {run} as member")
        join = member.locator("#join-form")
        join.get_by_label("Your name").fill("New Member")
        join.get_by_label("Choose a password").fill(PASSWORD)
        member.get_by_role("button", name="Join").click()
        expect(member.locator("#who")).to_contain_text(f"{member_email} in Team {run}")

        # As a member, renaming the workspace is refused
        expect(member.locator("#rename-form").get_by_label("Name")).to_have_value(f"Team {run}")
        member.locator("#rename-form").get_by_label("Name").fill("Renamed by the member")
        member.get_by_role("button", name="Rename").click()
        expect(member.locator("#rename-error")).to_have_text("You do not have permission to do this.")

        # The owner sees the new member and makes them an admin
        nav(page, "Members")
        members = page.get_by_role("table", name="Members")
        expect(members.get_by_role("row").filter(has_text=member_email)).to_be_visible()
        expect(page.locator("#seat-count")).to_have_text("2 seats")
        page.get_by_label(f"Role of {member_email}", exact=True).select_option("admin")
        page.get_by_role("button", name=f"Save role of {member_email}").click()
        expect(page.locator("#members-status")).to_have_text(f"{member_email} is now admin.")

        # The change takes effect in the member's browser at their next request
        member.get_by_role("button", name="Rename").click()
        expect(member.locator("#rename-status")).to_have_text("Renamed to Renamed by the member.")
    finally:
        member_context.close()
