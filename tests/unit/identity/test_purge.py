"""Deleted workspaces are purged after their grace window: identity's rows go, `workspace.purged`
goes out, a restored workspace is left alone, and a half-finished purge is finished by a retry.
The daily sweep enqueues one `identity.purge_workspace` job per workspace; identity's own job
worker runs it (ADR 0014)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.identity import jobs as _declared  # noqa: F401  (registers identity's jobs)
from functions.identity.dal.store import IdentityDb, workspaces_of
from functions.identity.handlers import job_worker
from functions.identity.logic import purge
from functions.identity.seed import SeededUser
from ninefold_core import aws
from ninefold_core.jobs import JOBS, PLATFORM_TENANT
from ninefold_core.jobs import worker as core_worker
from ninefold_core.jobs.firing import SCHEDULED_TIME, declared_firing
from tests.unit.identity.conftest import events, scan
from tests.unit.identity.test_workspaces_members import Caller, join_new


def purge_due(db: IdentityDb, now: dt.datetime) -> list[purge.Purged]:
    """What the sweep and its jobs do, in one go."""
    return [done for entry in purge.due(db, now=now) if (done := purge.purge_workspace(db, entry)) is not None]


@pytest.fixture
def job_queue(identity_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = aws.client("sqs").create_queue(QueueName="identity-jobs")["QueueUrl"]
    monkeypatch.setenv("JOB_QUEUE_URL", url)
    return url


def pending(url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def deliver_all(url: str, lambda_context: Any, *, allow_empty: bool = False) -> dict[str, Any]:
    """Receive what is on the queue and hand it to identity's job worker as one SQS batch."""
    messages = (
        aws.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30)
        .get("Messages", [])
    )
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:identity-jobs",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]
    if not records:
        assert allow_empty, "nothing to deliver"
        return {"batchItemFailures": []}
    result: dict[str, Any] = job_worker.handler({"Records": records}, lambda_context)
    return result


def tenant_rows(table: str, tenant_id: str) -> list[dict[str, Any]]:
    return [i for i in scan(table) if str(i["pk"]).startswith(f"T#{tenant_id}#") and i.get("kind") != "outbox"]


def delete_workspace(acme: Caller) -> tuple[dict[str, Any], Caller]:
    acme("POST", "/api/v1/workspaces", {"name": "Elsewhere"})
    deleted = acme("DELETE", "/api/v1/workspace")
    assert deleted.status == 200, deleted.body
    return deleted.body, Caller(deleted.body["token"], acme.lambda_context)


def after(body: dict[str, Any], days: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(body["purge_at"]) + dt.timedelta(days=days, seconds=1)


def test_a_deleted_workspace_is_purged_after_its_grace_window(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    acme = Caller(owner.token, lambda_context)
    bob = join_new(identity_env, acme, "bob@example.com", lambda_context, ["admin"])
    acme("POST", "/api/v1/teams", {"name": "Ops", "roles": []})
    acme("POST", "/api/v1/roles", {"name": "Auditor", "permissions": ["audit:read"]})
    acme("POST", "/api/v1/invitations", {"email": "carol@example.com"})
    body, _ = delete_workspace(acme)
    db = IdentityDb(identity_env)

    assert purge_due(db, after(body) - dt.timedelta(days=1)) == []  # still in its grace window
    assert tenant_rows(identity_env, owner.tenant_id)

    (done,) = purge_due(db, after(body))
    assert done.tenant_id == owner.tenant_id
    assert tenant_rows(identity_env, owner.tenant_id) == []
    assert owner.tenant_id not in workspaces_of(identity_env, owner.user_id)
    assert not any(str(i["pk"]).startswith("P#invite-token#") for i in scan(identity_env))
    assert [e["data"] for e in events(identity_env, "workspace.purged")] == [{"workspace_id": owner.tenant_id}]
    assert not bob.allowed
    assert purge_due(db, after(body, days=1)) == []  # nothing left to do


def test_a_restored_workspace_is_not_purged(identity_env: str, owner: SeededUser, lambda_context: Any) -> None:
    acme = Caller(owner.token, lambda_context)
    body, moved = delete_workspace(acme)
    assert moved("POST", f"/api/v1/workspaces/{owner.tenant_id}/restore").status == 200
    assert purge_due(IdentityDb(identity_env), after(body)) == []
    assert any(i["sk"] == "workspace" for i in tenant_rows(identity_env, owner.tenant_id))


def fire(url: str, job: str, at: dt.datetime) -> None:
    """What the Scheduler sends for a platform job's schedule (the stack's target input)."""
    body = declared_firing(JOBS[job]).replace(SCHEDULED_TIME, at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)


def runs_of(table: str, job: str) -> list[dict[str, Any]]:
    return [i for i in scan(table) if i.get("kind") == "job_run" and i["job"] == job]


def test_the_daily_sweep_and_a_purge_cut_short_run_on_identity_s_job_worker_and_finish(
    identity_env: str, owner: SeededUser, lambda_context: Any, monkeypatch: Any, job_queue: str
) -> None:
    acme = Caller(owner.token, lambda_context)
    join_new(identity_env, acme, "bob@example.com", lambda_context)
    body, _ = delete_workspace(acme)
    original = purge._purge

    def crash(db: IdentityDb, store: Any) -> int:
        store.repo.delete(("MEMBERS",), "member#usr_owner")
        raise RuntimeError("the function timed out")

    # The backoff is over at once: a failed message is visible again straight away.
    backoff = core_worker._change_visibility
    monkeypatch.setattr(core_worker, "_change_visibility", lambda config, handle, seconds: backoff(config, handle, 0))
    monkeypatch.setattr(purge, "_purge", crash)

    # The schedule fires the sweep (a platform run); the sweep enqueues the workspace's purge.
    fire(job_queue, "identity.sweep_purges", after(body))
    fire(job_queue, "identity.sweep_purges", after(body))  # the same firing delivered twice: one run
    assert deliver_all(job_queue, lambda_context) == {"batchItemFailures": []}
    (sweep,) = runs_of(identity_env, "identity.sweep_purges")
    assert (sweep["tenant_id"], sweep["status"], sweep["result"]) == (PLATFORM_TENANT, "succeeded", {"enqueued": 1})

    first = deliver_all(job_queue, lambda_context)
    assert len(first["batchItemFailures"]) == 1  # the purge's attempt 1 failed: it will be retried
    assert tenant_rows(identity_env, owner.tenant_id)  # half done
    (run,) = runs_of(identity_env, "identity.purge_workspace")
    assert (run["tenant_id"], run["status"]) == (owner.tenant_id, "retrying")

    # The next day's sweep finds the workspace still due: its purge folds into the same run.
    monkeypatch.setattr(purge, "_purge", original)
    fire(job_queue, "identity.sweep_purges", after(body, days=1))
    for _ in range(3):  # the purge's attempt 2 and the second sweep, then whatever that enqueued
        if not deliver_all(job_queue, lambda_context, allow_empty=True)["batchItemFailures"] and not pending(job_queue):
            break
    assert len(runs_of(identity_env, "identity.sweep_purges")) == 2
    (finished,) = runs_of(identity_env, "identity.purge_workspace")
    assert (finished["status"], finished["attempts"], finished["result"]["purged"]) == ("succeeded", 2, True)
    # What is left of the workspace in identity's table is the job runtime's own bookkeeping.
    assert {i["sk"] for i in tenant_rows(identity_env, owner.tenant_id)} <= {"run", "idem", "slots"}
    assert [e["data"] for e in events(identity_env, "workspace.purged")] == [{"workspace_id": owner.tenant_id}]
