"""Deleted workspaces are purged after their grace window: identity's rows go, `workspace.purged`
goes out, a restored workspace is left alone, and a half-finished purge is finished by a retry.
The daily sweep enqueues one `identity.purge_workspace` job per workspace; identity's own job
worker runs it (ADR 0014)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb, workspaces_of
from functions.identity.handlers import job_worker, purger
from functions.identity.logic import purge
from functions.identity.seed import SeededUser
from ninefold_core import aws
from ninefold_core.jobs import worker as core_worker
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext
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


def deliver_all(url: str, lambda_context: Any) -> dict[str, Any]:
    """Receive what is on the queue and hand it to identity's job worker as one SQS batch."""
    messages = aws.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
    ).get("Messages", [])
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


def test_a_purge_cut_short_is_retried_by_identity_s_job_worker_and_finished(
    identity_env: str, owner: SeededUser, lambda_context: Any, monkeypatch: Any, job_queue: str
) -> None:
    acme = Caller(owner.token, lambda_context)
    join_new(identity_env, acme, "bob@example.com", lambda_context)
    body, _ = delete_workspace(acme)
    original = purge._purge

    def crash(db: IdentityDb, store: Any) -> int:
        store.repo.delete(("MEMBERS",), "member#usr_owner")
        raise RuntimeError("the function timed out")

    # The daily sweep enqueues the purge; sweeping again (a retried invocation) starts no second run.
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": after(body).isoformat(), "detail": {}}
    assert purger.handler(event, lambda_context) == {"enqueued": 1}
    assert purger.handler(event, lambda_context) == {"enqueued": 1}

    # The backoff is over at once: the failed message is visible again straight away.
    backoff = core_worker._change_visibility
    monkeypatch.setattr(core_worker, "_change_visibility", lambda config, handle, seconds: backoff(config, handle, 0))
    monkeypatch.setattr(purge, "_purge", crash)
    first = deliver_all(job_queue, lambda_context)
    # One message ran attempt 1 and failed; the other sweep's message waits (one purge at a time).
    assert len(first["batchItemFailures"]) == 1
    assert tenant_rows(identity_env, owner.tenant_id)  # half done
    (run,) = [i for i in scan(identity_env) if i.get("kind") == "job_run"]
    store = RunStore(identity_env, TenantContext.system(owner.tenant_id, "identity"))
    assert store.get(str(run["run_id"]))["status"] == "queued"

    monkeypatch.setattr(purge, "_purge", original)
    deliver_all(job_queue, lambda_context)
    finished = store.get(str(run["run_id"]))
    assert finished is not None
    assert (finished["status"], finished["attempts"], finished["result"]["purged"]) == ("succeeded", 2, True)
    # What is left of the workspace in identity's table is the job runtime's own bookkeeping.
    assert {i["sk"] for i in tenant_rows(identity_env, owner.tenant_id)} <= {"run", "idem", "slots"}
    assert [e["data"] for e in events(identity_env, "workspace.purged")] == [{"workspace_id": owner.tenant_id}]
