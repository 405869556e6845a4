"""API calls per workspace reach the bus: the authorizer counts them, the hourly schedule (an
EventBridge rule the local cloud fires on its warp clock) reports them as
`usage.api_calls_recorded`, and safety's audit log receives the event."""

from __future__ import annotations

import uuid
from typing import Any

from functions.identity.seed import seed_user
from tests.support.cloud import Api, requires_system

pytestmark = [requires_system("identity"), requires_system("safety")]


def test_api_calls_are_reported_per_workspace_after_the_hour(cloud: Any) -> None:
    table = cloud.resource("Ninefold-Identity/Table").name
    seeded = seed_user(
        table, workspace_name="Metered", user_id="usr_" + uuid.uuid4().hex[:12], client=cloud.client("dynamodb")
    )
    api = Api(cloud.url, seeded.token)
    for _ in range(3):
        assert api.get("/api/v1/me").status == 200

    cloud.clock.advance(2 * 3600)  # the hour ends; the schedule fires at five past
    cloud.settle(timeout=60)

    audit = api.get("/api/v1/audit-events?limit=100")
    assert audit.status == 200
    reports = [e["data"] for e in audit.json["items"] if e["type"] == "usage.api_calls_recorded"]
    # The three calls; this audit read is counted after the report ran, so a later report has it.
    assert sum(r["calls"] for r in reports) == 3, reports
    assert {r["workspace_id"] for r in reports} == {seeded.tenant_id}
