"""Crash safety of a worker batch (ADR 0013): the worker process dies mid-batch, or a whole
invocation fails (local cloud fault injection), and still every run ends succeeded exactly once."""

from __future__ import annotations

import uuid
from typing import Any

from functions.workflows.jobs.echo import EchoPayload
from functions.workflows.jobs.sleep import SleepPayload
from ninefold_core.jobs import MAX_DELAY_SECONDS, JobMessage, build_message, send
from ninefold_core.tenant import TenantContext
from tests.support.cloud import SignedInUser, _sign_in, requires_system

pytestmark = requires_system("workflows")

QUEUE = "Ninefold-Workflows/JobQueue/Resource"
WORKER = "Ninefold-Workflows/WorkflowsWorker"


def fresh(cloud: Any, name: str) -> SignedInUser:
    return _sign_in(cloud, name, f"usr_{name.lower()}_{uuid.uuid4().hex[:8]}")


def one_batch(cloud: Any, messages: list[JobMessage]) -> None:
    """Make the messages visible together, so that they arrive in one batch, in this order."""
    sqs, url = cloud.client("sqs"), cloud.resource(QUEUE).url
    for message in messages:
        send(message, delay=MAX_DELAY_SECONDS, queue_url=url, client=sqs)
    cloud.clock.advance(MAX_DELAY_SECONDS)
    cloud.settle(timeout=60)


def redeliver(cloud: Any) -> None:
    """Past the queue's visibility timeout: a failed invocation's batch comes back."""
    url = cloud.resource(QUEUE).url
    visibility = int(
        cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
            "VisibilityTimeout"
        ]
    )
    cloud.clock.advance(visibility + 1)
    cloud.wait_idle(timeout=60)


def runs_of(user: SignedInUser) -> list[dict[str, Any]]:
    reply = user.api.get("/api/v1/runs?limit=100")
    assert reply.status == 200, reply.text
    items: list[dict[str, Any]] = reply.json["items"]
    return items


def assert_each_succeeded_once(user: SignedInUser, sent: list[JobMessage]) -> dict[str, dict[str, Any]]:
    found = {r["run_id"]: r for r in runs_of(user)}
    assert sorted(found) == sorted(m.run_id for m in sent)  # none lost, none duplicated
    for run in found.values():
        assert run["status"] == "succeeded", run
        successes = [a for a in run["attempt_log"] if a.get("error") is None and a.get("finished_at")]
        assert len(successes) == 1, run  # the job body completed exactly once
    return found


def test_a_worker_crash_after_the_first_record_loses_nothing(cloud: Any) -> None:
    user = fresh(cloud, "Crashy")
    ctx = TenantContext.system(user.tenant_id, "workflows")
    first = build_message("workflows.sleep", SleepPayload(), ctx)
    crashing = build_message("workflows.sleep", SleepPayload(crash_on_attempt=1), ctx)
    rest = [build_message("workflows.echo", EchoPayload(message=f"m{i}"), ctx) for i in range(5)]
    sent = [first, crashing, *rest]
    crashes_before = [i for i in cloud.invocations(WORKER) if not i["ok"]]

    one_batch(cloud, sent)

    crashes = [i for i in cloud.invocations(WORKER) if not i["ok"]]
    assert len(crashes) == len(crashes_before) + 1  # the process died mid-batch
    done = {r["run_id"]: r["status"] for r in runs_of(user)}
    assert done.get(first.run_id) == "succeeded"  # ran before the crash, its message not deleted yet
    assert not any(done.get(m.run_id) == "succeeded" for m in rest)  # never reached

    redeliver(cloud)

    found = assert_each_succeeded_once(user, sent)
    assert found[first.run_id]["attempts"] == 1  # redelivered, not run again (idempotent)
    assert found[crashing.run_id]["attempts"] == 2  # the crashed attempt counts
    assert all(found[m.run_id]["attempts"] == 1 for m in rest)  # a receive that ran nothing is no attempt


def test_a_failed_invocation_returns_the_whole_batch_and_loses_nothing(cloud: Any) -> None:
    user = fresh(cloud, "Faulty")
    ctx = TenantContext.system(user.tenant_id, "workflows")
    sent = [build_message("workflows.echo", EchoPayload(message=f"f{i}"), ctx) for i in range(4)]
    cloud.faults.inject(WORKER, exc=TimeoutError("Task timed out"), times=1)

    one_batch(cloud, sent)
    assert runs_of(user) == []  # the invocation died before the handler ran

    redeliver(cloud)

    found = assert_each_succeeded_once(user, sent)
    assert all(run["attempts"] == 1 for run in found.values())
