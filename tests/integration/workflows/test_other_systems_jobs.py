"""Other systems run their background work on the job runtime (ADR 0014), in the local cloud:

identity's daily sweep (an EventBridge rule; invoked here with the time it would fire at) finds a
workspace whose deletion grace window ended and enqueues `identity.purge_workspace` on identity's
own jobs queue; identity's job worker runs it against identity's table; the run's writes reach
the bus as `job_run.changed` through identity's stream relay, and workflows' read model keeps
the run, marked as identity's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninefold_core.dynamo import deserialize
from tests.support.cloud import Api, requires_system

pytestmark = [requires_system("identity"), requires_system("workflows")]

PASSWORD = "correct horse battery staple"


def scan(cloud: Any, table_key: str) -> list[dict[str, Any]]:
    table = cloud.resource(table_key).name
    pages = cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [deserialize(item) for page in pages for item in page["Items"]]


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

    # The sweep runs at 03:30 after the grace window; it enqueues, identity's worker purges.
    after = dt.datetime.fromisoformat(deleted.json["purge_at"]) + dt.timedelta(days=1)
    swept = cloud.invoke("Ninefold-Identity/IdentityPurger", {"source": "aws.events", "time": after.isoformat()})
    assert swept == {"enqueued": 1}, swept
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
    # Sweeping again (a retried invocation) starts no second run: one idempotency key per deletion.
    assert cloud.invoke("Ninefold-Identity/IdentityPurger", {"source": "aws.events", "time": after.isoformat()}) == {
        "enqueued": 0
    }
