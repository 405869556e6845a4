"""Other systems run their background work on the job runtime (ADR 0014), in the local cloud:

identity's daily sweep (a platform job on identity's clock; its firing is sent here as the
Scheduler would send it on the day, instead of warping 30 days) finds a workspace whose deletion
grace window ended and enqueues `identity.purge_workspace` on identity's own jobs queue; identity's
job worker runs both against identity's table; the runs' writes reach the bus as `job_run.changed`
through identity's stream relay, and workflows' read model keeps them, marked as identity's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninefold_core.dynamo import deserialize
from ninefold_core.jobs.firing import SCHEDULED_TIME
from tests.support.cloud import Api, requires_system

pytestmark = [requires_system("identity"), requires_system("workflows")]

PASSWORD = "correct horse battery staple"


def scan(cloud: Any, table_key: str) -> list[dict[str, Any]]:
    table = cloud.resource(table_key).name
    pages = cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [deserialize(item) for page in pages for item in page["Items"]]


def fire_sweep(cloud: Any, at: dt.datetime) -> None:
    """The firing the Scheduler sends for identity's declared sweep (the template's target input)."""
    schedules = cloud.client("scheduler")
    for summary in schedules.list_schedules()["Schedules"]:
        schedule = schedules.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
        if '"identity.sweep_purges"' in schedule["Target"]["Input"]:
            body = schedule["Target"]["Input"].replace(SCHEDULED_TIME, at.strftime("%Y-%m-%dT%H:%M:%SZ"))
            queue = cloud.resource("Ninefold-Identity/JobQueue")
            cloud.client("sqs").send_message(QueueUrl=queue.url, MessageBody=body)
            return
    raise AssertionError("identity's sweep has no schedule in the template")


def test_identity_purges_a_deleted_workspace_on_its_own_job_runtime_and_workflows_lists_the_run(
    cloud: Any, anonymous: Api
) -> None:
    email = f"purge-{uuid.uuid4().hex[:10]}@example.com"
    assert anonymous.post("/api/v1/auth/sign-up", {"email": email, "password": PASSWORD}).status == 202
    signed_in = anonymous.post("/api/v1/auth/sign-in", {"email": email, "password": PASSWORD})
    assert signed_in.status == 200, signed_in.text
    api = Api(cloud.url, signed_in.json["token"])  # just signed in: stepped up
    doomed = api.get("/api/v1/workspace").json["id"]
    assert api.post("/api/v1/workspaces", {"name": "Elsewhere"}).status == 201
    deleted = api.delete("/api/v1/workspace")
    assert deleted.status == 200, deleted.text
    api = Api(cloud.url, deleted.json["token"])  # the session moved to the other workspace

    # The sweep fires at 03:30 after the grace window; it enqueues, identity's worker purges.
    after = dt.datetime.fromisoformat(deleted.json["purge_at"]) + dt.timedelta(days=1)
    fire_sweep(cloud, after)
    cloud.settle(timeout=60)

    listed = api.get("/api/v1/workspaces").json["items"]
    assert doomed not in [w["workspace_id"] for w in listed]  # purged, no longer restorable
    identity_runs = [i for i in scan(cloud, "Ninefold-Identity/Table") if i.get("kind") == "job_run"]
    (run,) = [r for r in identity_runs if r["tenant_id"] == doomed]
    assert (run["job"], run["status"], run["attempts"]) == ("identity.purge_workspace", "succeeded", 1)
    assert run["result"]["purged"] is True

    # Workflows' read model has the run as identity's, at its newest revision.
    views = [i for i in scan(cloud, "Ninefold-Workflows/Table") if i.get("run_id") == run["run_id"]]
    (view,) = views
    assert (view["system"], view["status"], view["revision"], view["tenant_id"]) == (
        "identity",
        "succeeded",
        run["revision"],
        doomed,
    )
    (sweep,) = [r for r in identity_runs if r["job"] == "identity.sweep_purges"]
    assert (sweep["tenant_id"], sweep["status"], sweep["result"]) == ("platform", "succeeded", {"enqueued": 1})
    # The same firing delivered again is the same run: nothing runs twice.
    fire_sweep(cloud, after)
    cloud.settle(timeout=60)
    again = [i for i in scan(cloud, "Ninefold-Identity/Table") if i.get("kind") == "job_run"]
    assert sorted(r["run_id"] for r in again) == sorted(r["run_id"] for r in identity_runs)
