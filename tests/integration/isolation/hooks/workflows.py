"""Workflows' routes in the isolation suite: one seeder enqueues two demo runs and lets them finish,
another makes a run fail every attempt so that it is dead-lettered, a third creates two (disabled)
schedules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.support.isolation import HarnessError, Tenant, body_factory, exempt, seeder, volatile

RUN = "/api/v1/runs/{run_id}"

# A platform operator's route: it needs `platform:operate` granted explicitly, so every tenant
# (a workspace owner's `*` included) gets 403 and there is no tenant object to cross over to.
# tests/integration/workflows/test_filters.py checks the owner's 403.
exempt(
    "GET",
    "/api/v1/admin/runs",
    reason="platform-operator route (platform:operate, never granted by a workspace role): tenants get 403",
)
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


SCHEDULE = "/api/v1/schedules/{schedule_id}"
volatile("next_runs")  # computed from the clock at each read


@seeder(SCHEDULE)
def schedules(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    """Two schedules, disabled so that they never fire while other tests warp the clock."""
    for body in (
        {"job": "workflows.echo", "payload": {"message": "probe"}, "rate": "rate(1 hour)", "enabled": False},
        {"job": "workflows.echo", "payload": {"message": "probe"}, "cron": "0 9 * * ? *", "timezone": "Europe/Paris"},
    ):
        created = tenant.api.request("POST", "/api/v1/schedules", json_body=body)
        if created.status != 201:
            raise HarnessError(f"seeding {SCHEDULE}: creating a schedule answered {created.status}")
        if body.get("enabled", True):
            disabled = tenant.api.request(
                "PATCH", f"/api/v1/schedules/{created.json['schedule_id']}", json_body={"enabled": False}
            )
            if disabled.status != 200:
                raise HarnessError(f"seeding {SCHEDULE}: disabling a schedule answered {disabled.status}")
    listed = tenant.api.request("GET", "/api/v1/schedules?limit=100")
    if listed.status != 200:
        raise HarnessError(f"seeding {SCHEDULE}: listing schedules answered {listed.status}")
    return [{"schedule_id": item["schedule_id"]} for item in listed.json["items"]]


@body_factory("PATCH", SCHEDULE)
def schedule_change(cloud: Any, tenant: Tenant, params: Mapping[str, str]) -> dict[str, Any]:
    """A valid change (the generated body would name both cron and rate)."""
    return {"enabled": True, "rate": "rate(5 minutes)", "timezone": "Asia/Tokyo", "payload": {"message": "changed"}}


WORKFLOW_RUN = "/api/v1/workflow-runs/{execution_id}"


@seeder(WORKFLOW_RUN)
def workflow_runs(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    """Two runs of the demo workflow, cancelled while they wait their hour: they stay readable, and no
    execution is left parked in a Wait (which would keep `cloud.wait_idle()` busy for other cases)."""
    ids = []
    for n in range(2):
        body = {"workflow": "workflows.onboarding", "input": {"message": f"probe {n}"}}
        started = tenant.api.request("POST", "/api/v1/workflow-runs", json_body=body)
        if started.status != 202:
            raise HarnessError(f"seeding {WORKFLOW_RUN}: starting a run answered {started.status}")
        ids.append(started.json["execution_id"])
    cloud.settle(timeout=30)
    for execution_id in ids:
        cancelled = tenant.api.request("POST", f"/api/v1/workflow-runs/{execution_id}/cancel", json_body={})
        if cancelled.status != 200:
            raise HarnessError(f"seeding {WORKFLOW_RUN}: cancelling a run answered {cancelled.status}")
    return [{"execution_id": execution_id} for execution_id in ids]
