"""The schedules page in the browser: the demo owner is stopped by a payload that is not JSON (in the
page, before any request) and by an expression the API refuses (its problem detail in the alert),
then schedules `workflows.echo` every hour in Europe/Paris, sees it listed with its next run,
disables and re-enables it, and deletes it."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from scripts.dev_seed import DEMO_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import DevServer
from tests.e2e.test_identity_journey import sign_in
from tests.e2e.test_runs_journey import call
from tests.e2e.test_team_journey import nav

# Columns of the schedules table.
STATE, NEXT_RUN = 4, 5


def test_create_disable_enable_and_delete_a_schedule(page: Page, dev_server: DevServer) -> None:
    token = dev_server.demo_token
    name = f"Hourly tick {uuid.uuid4().hex[:8]}"

    page.goto(dev_server.url + "/app/#/sign-in")
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.locator("#who")).to_contain_text(DEMO_EMAIL)
    nav(page, "Schedules")
    expect(page.get_by_role("heading", name="Schedules", exact=True)).to_be_visible()

    form = page.locator("#schedule-form")
    alert = form.get_by_role("alert")
    table = page.get_by_role("table", name="Schedules")
    row = table.get_by_role("row").filter(has_text=name)

    # The time zone defaults to the browser's.
    expect(form.get_by_label("Time zone")).not_to_have_value("")

    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Job", exact=True).select_option("workflows.echo")
    form.get_by_label("Kind", exact=True).select_option("rate")
    form.get_by_label("Expression", exact=True).fill("1 hour")
    form.get_by_label("Time zone").fill("Europe/Paris")

    # Not JSON: refused in the page, nothing created.
    form.get_by_label("Payload").fill('{"message": tick}')
    form.get_by_role("button", name="Create schedule").click()
    expect(alert).to_contain_text("The payload is not valid JSON")
    expect(row).to_have_count(0)

    # A cron with five fields: the API's problem detail is shown.
    form.get_by_label("Payload").fill('{"message": "tick"}')
    form.get_by_label("Kind", exact=True).select_option("cron")
    form.get_by_label("Expression", exact=True).fill("0 9 * * *")
    form.get_by_role("button", name="Create schedule").click()
    expect(alert).to_contain_text("The schedule is not valid")
    expect(alert).to_contain_text("6 fields")
    expect(row).to_have_count(0)

    # Every hour, in Paris.
    form.get_by_label("Kind", exact=True).select_option("rate")
    form.get_by_label("Expression", exact=True).fill("1 hour")
    form.get_by_role("button", name="Create schedule").click()
    expect(form.get_by_role("status")).to_contain_text(f'The schedule "{name}" was created.')
    expect(alert).to_have_text("")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("workflows.echo")
    expect(row).to_contain_text("rate(1 hour)")
    expect(row).to_contain_text("Europe/Paris")
    expect(row.get_by_role("cell").nth(STATE)).to_have_text("Enabled")
    expect(row.get_by_role("cell").nth(NEXT_RUN)).to_have_text(re.compile(r"\d"))
    expect(page.locator("#schedules-empty")).to_be_hidden()

    listed = [s for s in call(dev_server, "GET", "/api/v1/schedules", token=token)["items"] if s["name"] == name]
    assert len(listed) == 1
    assert listed[0]["payload"]["message"] == "tick"  # as validated by the job (defaults filled in)
    assert listed[0]["timezone"] == "Europe/Paris"
    assert listed[0]["next_runs"]

    # Disable: no next run; enable again.
    row.get_by_role("button", name=f"Disable the schedule {name}").click()
    expect(row.get_by_role("cell").nth(STATE)).to_have_text("Disabled")
    expect(row.get_by_role("cell").nth(NEXT_RUN)).to_have_text("—")
    row.get_by_role("button", name=f"Enable the schedule {name}").click()
    expect(row.get_by_role("cell").nth(STATE)).to_have_text("Enabled")
    expect(row.get_by_role("cell").nth(NEXT_RUN)).to_have_text(re.compile(r"\d"))

    # Delete, confirming the prompt.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Delete the schedule {name}").click()
    expect(page.locator("#schedules-status")).to_have_text(f'The schedule "{name}" was deleted.')
    expect(row).to_have_count(0)
    remaining = call(dev_server, "GET", "/api/v1/schedules", token=token)["items"]
    assert [s for s in remaining if s["name"] == name] == []
