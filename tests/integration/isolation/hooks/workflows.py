"""Workflows' routes in the isolation suite: the seeder enqueues two demo runs and lets them finish."""

from __future__ import annotations

from typing import Any

from tests.support.isolation import HarnessError, Tenant, seeder

RUN = "/api/v1/runs/{run_id}"


@seeder(RUN)
def runs(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    for n in range(2):
        body = {"job": "workflows.echo", "payload": {"message": f"probe {n}"}}
        started = tenant.api.request("POST", "/api/v1/runs", json_body=body)
        if started.status != 202:
            raise HarnessError(f"seeding {RUN}: enqueuing a run answered {started.status}")
    cloud.wait_idle(timeout=30)
    listed = tenant.api.request("GET", "/api/v1/runs?limit=100")
    if listed.status != 200:
        raise HarnessError(f"seeding {RUN}: listing runs answered {listed.status}")
    return [{"run_id": item["run_id"]} for item in listed.json["items"]]
