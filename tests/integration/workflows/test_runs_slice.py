"""Jobs end to end in the local cloud: POST /api/v1/runs → JobQueue → WorkflowsWorker → run record."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.cloud import SignedInUser, requires_system

pytestmark = requires_system("workflows")

DLQ = "Ninefold-Workflows/JobQueueDeadLetters/Resource"
# More than the largest backoff of workflows.echo (max_delay 60 s) and less than its visibility.
BACKOFF = 61


def start(user: SignedInUser, payload: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"job": "workflows.echo", "payload": payload}
    if key:
        body["idempotency_key"] = key
    reply = user.api.post("/api/v1/runs", body)
    assert reply.status == 202, reply.text
    result: dict[str, Any] = reply.json
    return result


def run(user: SignedInUser, run_id: str) -> dict[str, Any]:
    reply = user.api.get(f"/api/v1/runs/{run_id}")
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json
    return result


def advance(cloud: Any, seconds: float = 0) -> None:
    if seconds:
        cloud.clock.advance(seconds)
        cloud.settle(timeout=30)
    else:
        cloud.wait_idle(timeout=30)


def test_a_job_that_fails_twice_is_retried_and_succeeds(cloud: Any, tenant_a: SignedInUser) -> None:
    started = start(tenant_a, {"message": "flaky", "fail_times": 2})
    advance(cloud)
    for _ in range(2):
        advance(cloud, BACKOFF)
    done = run(tenant_a, started["run_id"])
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 3
    assert done["result"] == {"echo": "flaky", "attempt": 3}


def test_exhausted_retries_fail_the_run_and_dead_letter_the_message(cloud: Any, tenant_a: SignedInUser) -> None:
    started = start(tenant_a, {"message": "doomed", "fail_times": 10})
    advance(cloud)
    for _ in range(4):
        advance(cloud, BACKOFF)
    failed = run(tenant_a, started["run_id"])
    assert failed["status"] == "failed", failed
    assert failed["attempts"] == 3
    assert "attempt 3 failed on purpose" in failed["last_error"]
    sqs = cloud.client("sqs")
    messages = sqs.receive_message(QueueUrl=cloud.resource(DLQ).url, MaxNumberOfMessages=10).get("Messages", [])
    assert started["run_id"] in [json.loads(m["Body"])["run_id"] for m in messages]


def test_a_duplicate_idempotency_key_runs_once(cloud: Any, tenant_a: SignedInUser) -> None:
    key = f"order-{uuid.uuid4().hex[:8]}"
    first = start(tenant_a, {"message": "once"}, key)
    second = start(tenant_a, {"message": "once"}, key)
    assert second["run_id"] == first["run_id"]
    advance(cloud)
    listed = tenant_a.api.get("/api/v1/runs?job=workflows.echo&limit=100").json["items"]
    assert [r["run_id"] for r in listed if r.get("idempotency_key") == key] == [first["run_id"]]
    assert run(tenant_a, first["run_id"])["status"] == "succeeded"


def test_another_tenant_cannot_see_or_cancel_a_run(cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser) -> None:
    started = start(tenant_a, {"message": "private"})
    advance(cloud)
    assert tenant_b.api.get(f"/api/v1/runs/{started['run_id']}").status == 404
    assert tenant_b.api.post(f"/api/v1/runs/{started['run_id']}/cancel").status == 404
    ids = [r["run_id"] for r in tenant_b.api.get("/api/v1/runs?limit=100").json["items"]]
    assert started["run_id"] not in ids
