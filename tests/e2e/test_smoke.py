"""Browser smoke test of the foundation: the console signs in with the demo
API token, renames the workspace, and the audit log shows the event that crossed
the bus."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import DevServer


def test_marketing_page_and_openapi_are_served(page: Page, dev_server: DevServer) -> None:
    page.goto(dev_server.url + "/")
    expect(page).to_have_title("Ninefold — the SaaS backend for Python teams on AWS")
    page.get_by_role("link", name="API reference (OpenAPI 3.1)").click()
    expect(page.locator("body")).to_contain_text('"openapi": "3.1.0"')


def test_console_sign_in_rename_and_audit_trail(page: Page, dev_server: DevServer) -> None:
    page.goto(dev_server.url + "/app/")
    page.get_by_text("Use an API token instead").click()
    page.get_by_label("Session token").fill("nf_s_not-a-real-token")
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#token-error")).to_have_text("That token is not valid.")

    page.get_by_label("Session token").fill(dev_server.demo_token)
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#who")).to_contain_text("Demo Workspace")

    expect(page.locator("#rename-form").get_by_label("Name")).to_have_value("Demo Workspace")
    page.locator("#rename-form").get_by_label("Name").fill("Renamed in the browser")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#rename-status")).to_have_text("Renamed to Renamed in the browser.")

    audit = page.get_by_role("table", name="Audit log")
    for _ in range(40):
        page.get_by_role("button", name="Refresh").click()
        if audit.get_by_text("workspace.renamed").count():
            break
        page.wait_for_timeout(250)
    expect(audit.get_by_role("row").filter(has_text="workspace.renamed").first).to_contain_text(
        "Renamed in the browser"
    )


def test_a_slow_page_load_never_hides_the_page_navigated_to_since(page: Page, dev_server: DevServer) -> None:
    """The workspace page is still loading when the user opens another page: the late
    answer must not switch the view back (a race CI once hit right after signing in)."""
    seen: list[Route] = []
    held: list[Route] = []

    def hold_the_page_load(route: Route) -> None:
        # The first GET is the header's identity check; the second is the workspace page's own load.
        seen.append(route)
        if len(seen) == 2:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/workspace", hold_the_page_load)
    page.goto(dev_server.url + "/app/")
    page.get_by_text("Use an API token instead").click()
    page.get_by_label("Session token").fill(dev_server.demo_token)
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#who")).to_contain_text("demo@ninefold.test")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the workspace page never asked for the workspace"

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Password").click()
    expect(page.locator("#password-form")).to_be_visible()
    held[0].continue_()  # the slow answer lands after the user moved on
    page.wait_for_timeout(500)
    expect(page.locator("#password-form")).to_be_visible()
    expect(page.locator("#view-workspace")).to_be_hidden()
