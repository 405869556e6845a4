"""Workflows' routes in the isolation suite: one seeder enqueues two demo runs and lets them finish,
another makes a run fail every attempt so that it is dead-lettered."""

from __future__ import annotations

from typing import Any

from tests.support.isolation import HarnessError, Tenant, seeder

RUN = "/api/v1/runs/{run_id}"
DEAD_LETTER = "/api/v1/dead-letters/{run_id}"
# More than workflows.echo's largest backoff (max_delay 60 s), less than its visibility timeout.
BACKOFF = 61


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


@seeder(DEAD_LETTER)
def dead_letters(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    body = {"job": "workflows.echo", "payload": {"message": "probe dead letter", "fail_times": 3}}
    started = tenant.api.request("POST", "/api/v1/runs", json_body=body)
    if started.status != 202:
        raise HarnessError(f"seeding {DEAD_LETTER}: enqueuing a run answered {started.status}")
    cloud.wait_idle(timeout=30)
    for _ in range(3):  # echo fails attempts 1-3; backoff after 1 and 2, then redeliveries to the DLQ
        cloud.clock.advance(BACKOFF)
        cloud.settle(timeout=30)
    listed = tenant.api.request("GET", "/api/v1/dead-letters?limit=100")
    if listed.status != 200:
        raise HarnessError(f"seeding {DEAD_LETTER}: listing dead letters answered {listed.status}")
    return [{"run_id": item["run_id"]} for item in listed.json["items"]]
