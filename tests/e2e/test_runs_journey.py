"""The runs page in the browser: two demo runs go in through the API and one of them fails every
attempt (the warp clock is moved past each backoff). The demo owner filters the page to failed
runs, reads the error and each attempt, and replays the dead-lettered run, which is queued again."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from scripts.dev_seed import DEMO_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import DevServer
from tests.e2e.test_identity_journey import sign_in
from tests.e2e.test_team_journey import nav

BACKOFF = 61  # past workflows.echo's longest backoff (60 s)


def call(server: DevServer, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=60) as reply:
        return json.loads(reply.read() or b"null")


def test_filter_to_failed_runs_read_the_attempts_and_replay(page: Page, dev_server: DevServer) -> None:
    token = dev_server.demo_token
    call(dev_server, "POST", "/api/v1/runs", {"job": "workflows.echo", "payload": {"message": "fine"}}, token)
    doomed = call(
        dev_server,
        "POST",
        "/api/v1/runs",
        {"job": "workflows.echo", "payload": {"message": "doomed", "fail_times": 10}},
        token,
    )["run_id"]
    for _ in range(6):
        call(dev_server, "POST", "/_local/wait-idle", {"timeout": 60})
        if call(dev_server, "GET", f"/api/v1/runs/{doomed}", token=token)["status"] == "failed":
            break
        call(dev_server, "POST", "/_local/clock", {"advance": BACKOFF})
    assert call(dev_server, "GET", f"/api/v1/runs/{doomed}", token=token)["status"] == "failed"

    page.goto(dev_server.url + "/app/#/sign-in")
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.locator("#who")).to_contain_text(DEMO_EMAIL)
    nav(page, "Runs")
    page.get_by_label("Status").select_option("failed")
    runs = page.locator("#runs-body")
    expect(runs.get_by_role("row").filter(has_text=doomed)).to_contain_text("3 / 3")
    expect(runs.get_by_role("row").filter(has_text="succeeded")).to_have_count(0)

    page.get_by_role("button", name=f"Details of run {doomed}").click()
    expect(page.locator("#run-detail-title")).to_contain_text("failed")
    expect(page.locator("#run-detail-error")).not_to_have_text("No error.")
    expect(page.locator("#run-attempts tr")).to_have_count(3)

    page.get_by_role("button", name=f"Replay run {doomed}").click()
    expect(page.locator("#run-detail-title")).not_to_contain_text(": failed")
