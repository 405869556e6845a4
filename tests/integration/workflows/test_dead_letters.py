"""Dead letters end to end in the local cloud: exhausted → DLQ → replay → succeeded exactly once,
and another tenant can neither see nor replay them."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.workflows.test_runs_slice import BACKOFF, DLQ, advance, run, start
from tests.support.cloud import SignedInUser, requires_system

pytestmark = requires_system("workflows")


def dlq_run_ids(cloud: Any) -> list[str]:
    sqs = cloud.client("sqs")
    url = cloud.resource(DLQ).url
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"])["run_id"] for m in got]


def exhausted(cloud: Any, user: SignedInUser, message: str) -> str:
    """A run that fails its three attempts (echo fails attempts 1-3) and is dead-lettered."""
    started = start(user, {"message": message, "fail_times": 3})
    advance(cloud)
    for _ in range(4):
        advance(cloud, BACKOFF)
    failed = run(user, started["run_id"])
    assert (failed["status"], failed["dead_lettered"]) == ("failed", True), failed
    assert started["run_id"] in dlq_run_ids(cloud)
    run_id: str = started["run_id"]
    return run_id


def test_a_replayed_dead_letter_succeeds_exactly_once(cloud: Any, tenant_a: SignedInUser) -> None:
    run_id = exhausted(cloud, tenant_a, "replay me")
    listed = tenant_a.api.get("/api/v1/dead-letters?limit=100")
    assert listed.status == 200, listed.text
    assert run_id in [r["run_id"] for r in listed.json["items"]]

    first = tenant_a.api.post(f"/api/v1/runs/{run_id}/replay")
    second = tenant_a.api.post(f"/api/v1/runs/{run_id}/replay")
    assert (first.status, second.status) == (200, 200), (first.text, second.text)
    assert run_id not in dlq_run_ids(cloud)
    advance(cloud)
    advance(cloud, BACKOFF)

    done = run(tenant_a, run_id)
    assert done["status"] == "succeeded", done
    assert done["result"] == {"echo": "replay me", "attempt": 4}
    assert [a["attempt"] for a in done["attempt_log"]] == [1, 2, 3, 4]
    assert done["replays"] == 1
    assert run_id not in [r["run_id"] for r in tenant_a.api.get("/api/v1/dead-letters?limit=100").json["items"]]
    assert run_id not in dlq_run_ids(cloud)


def test_another_tenant_cannot_see_or_replay_dead_letters(
    cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser
) -> None:
    run_id = exhausted(cloud, tenant_a, "private failure")
    assert run_id not in [r["run_id"] for r in tenant_b.api.get("/api/v1/dead-letters?limit=100").json["items"]]
    assert tenant_b.api.post(f"/api/v1/runs/{run_id}/replay").status == 404
    assert run_id in dlq_run_ids(cloud)
    assert run(tenant_a, run_id)["status"] == "failed"


def test_the_redrive_is_refused_to_a_workspace_owner(cloud: Any, tenant_a: SignedInUser) -> None:
    assert tenant_a.api.post("/api/v1/dead-letters/redrive").status == 403
