"""Dead letters: replay of a failed run (logic and API), the listing, the operator redrive, and
the DLQ helpers in `ninefold_core.queues` (moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.workflows.handlers import api
from functions.workflows.jobs.echo import EchoPayload
from functions.workflows.logic import runs
from ninefold_core import aws, queues
from ninefold_core.errors import Conflict, NotFound
from ninefold_core.jobs import JOBS, JobMessage, build_message, execution
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext
from tests.support.events import http_event

A = TenantContext(tenant_id="tenant-aaaa", user_id="usr_a", permissions=frozenset({"jobs:*"}))
B = TenantContext(tenant_id="tenant-bbbb", user_id="usr_b", permissions=frozenset({"jobs:*"}))
OWNER = TenantContext(tenant_id="tenant-aaaa", user_id="usr_o", permissions=frozenset({"*"}))
OPERATOR = TenantContext(tenant_id="tenant-aaaa", user_id="usr_p", permissions=frozenset({"platform:operate"}))


def exhaust(store: RunStore, ctx: TenantContext = A) -> JobMessage:
    msg = build_message("workflows.echo", EchoPayload(message="doomed", fail_times=10), ctx, idempotency_key="k-1")
    for attempt in (1, 2, 3):
        execution.execute(msg, attempt, store=store, jobs=JOBS, ctx=ctx, rng=lambda: 0.5)
    return msg


def test_a_run_that_exhausted_its_attempts_is_failed_and_dead_lettered(table: str) -> None:
    store = RunStore(table, A)
    msg = exhaust(store)
    run = runs.get(msg.run_id, store)
    assert (run.status, run.dead_lettered, run.attempts) == ("failed", True, 3)
    assert [r.run_id for r in runs.dead_letters(store, limit=50, cursor=None).items] == [msg.run_id]
    assert runs.dead_letters(RunStore(table, B), limit=50, cursor=None).items == []


def test_replay_re_enqueues_the_same_run_once_and_it_can_succeed(table: str) -> None:
    store = RunStore(table, A)
    msg = exhaust(store)
    sent: list[JobMessage] = []

    replayed, first = runs.replay(msg.run_id, store, A, send=sent.append)
    again, second = runs.replay(msg.run_id, store, A, send=sent.append)

    assert (first, second) == (True, False)
    assert (replayed.status, replayed.attempts, replayed.max_attempts) == ("queued", 3, 6)
    assert (replayed.replays, replayed.attempt_base, replayed.dead_lettered) == (1, 3, False)
    assert again.run_id == msg.run_id
    (resent,) = sent
    assert (resent.run_id, resent.idempotency_key, resent.tenant_id) == (msg.run_id, "k-1", A.tenant_id)
    # Attempts continue with a fresh budget: 4 and 5 fail (backoff by the first delays), 6 is last.
    first_retry = execution.execute(resent, 1, store=store, jobs=JOBS, ctx=A, rng=lambda: 0.5)
    assert (first_retry.done, first_retry.visibility) == (False, 1)
    execution.execute(resent, 2, store=store, jobs=JOBS, ctx=A, rng=lambda: 0.5)
    last = execution.execute(resent, 3, store=store, jobs=JOBS, ctx=A, rng=lambda: 0.5)
    assert (last.done, last.visibility) == (False, 0)
    failed = runs.get(msg.run_id, store)
    assert (failed.status, failed.attempts, len(failed.attempt_log), failed.dead_lettered) == ("failed", 6, 6, True)


def test_a_replayed_run_succeeds_once_the_cause_is_gone(table: str) -> None:
    store = RunStore(table, A)
    msg = build_message("workflows.echo", EchoPayload(message="flaky", fail_times=3), A)
    for attempt in (1, 2, 3):
        execution.execute(msg, attempt, store=store, jobs=JOBS, ctx=A, rng=lambda: 0.5)
    sent: list[JobMessage] = []
    runs.replay(msg.run_id, store, A, send=sent.append)
    assert execution.execute(sent[0], 1, store=store, jobs=JOBS, ctx=A).done
    done = runs.get(msg.run_id, store)
    assert (done.status, done.attempts, done.result) == ("succeeded", 4, {"echo": "flaky", "attempt": 4})
    assert runs.dead_letters(store, limit=50, cursor=None).items == []


def test_only_a_failed_run_of_ones_own_tenant_can_be_replayed(table: str) -> None:
    store = RunStore(table, A)
    msg = exhaust(store)
    with pytest.raises(NotFound):
        runs.replay(msg.run_id, RunStore(table, B), B, send=lambda m: None)
    ok = build_message("workflows.echo", EchoPayload(message="ok"), A)
    execution.execute(ok, 1, store=store, jobs=JOBS, ctx=A)
    with pytest.raises(Conflict):
        runs.replay(ok.run_id, store, A, send=lambda m: None)


@pytest.fixture
def queues_env(table: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url: str = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    dlq: str = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    for key, value in {
        "SYSTEM": "workflows",
        "POWERTOOLS_SERVICE_NAME": "workflows",
        "TABLE_NAME": table,
        "JOB_QUEUE_URL": url,
        "JOB_DLQ_URL": dlq,
    }.items():
        monkeypatch.setenv(key, value)
    return url, dlq


def bodies(url: str) -> list[dict[str, Any]]:
    got = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def call(method: str, path: str, ctx: TenantContext, lambda_context: Any) -> tuple[int, Any]:
    response = api.handler(http_event(method, path, ctx=ctx), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_the_replay_route_removes_only_its_own_message_from_the_shared_dlq(
    queues_env: tuple[str, str], lambda_context: Any
) -> None:
    url, dlq = queues_env
    table = "ninefold-test-table"
    mine, theirs = exhaust(RunStore(table, A)), exhaust(RunStore(table, B), B)
    sqs = aws.client("sqs")
    for m in (mine, theirs):
        sqs.send_message(QueueUrl=dlq, MessageBody=m.model_dump_json())

    assert call("POST", f"/api/v1/runs/{theirs.run_id}/replay", A, lambda_context)[0] == 404
    status, body = call("POST", f"/api/v1/runs/{mine.run_id}/replay", A, lambda_context)
    assert (status, body["status"]) == (200, "queued")
    assert call("POST", f"/api/v1/runs/{mine.run_id}/replay", A, lambda_context)[0] == 200

    assert [b["run_id"] for b in bodies(dlq)] == [theirs.run_id]
    assert [b["run_id"] for b in bodies(url)] == [mine.run_id]
    status, listed = call("GET", "/api/v1/dead-letters", B, lambda_context)
    assert (status, [r["run_id"] for r in listed["items"]]) == (200, [theirs.run_id])


def test_the_redrive_route_is_for_operators_only(queues_env: tuple[str, str], lambda_context: Any) -> None:
    url, dlq = queues_env
    sqs = aws.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}))
    # A tenant owner's `*` is not enough: the DLQ is every tenant's.
    assert call("POST", "/api/v1/dead-letters/redrive", OWNER, lambda_context)[0] == 403
    assert call("POST", "/api/v1/dead-letters/redrive", OPERATOR, lambda_context) == (200, {"moved": 3})
    assert bodies(dlq) == []
    assert sorted(b["n"] for b in bodies(url)) == [0, 1, 2]


def test_remove_matching_leaves_the_other_messages_visible(mocked_aws: None) -> None:
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    for n in range(15):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(n))
    assert queues.remove_matching(sqs, dlq_url=dlq, matches=lambda body: int(body) % 5 == 0) == 3
    left = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "12"


def test_one_dead_letter_is_a_dead_lettered_run_of_ones_own(table: str) -> None:
    store = RunStore(table, A)
    msg = exhaust(store)
    assert runs.dead_letter(msg.run_id, store).run_id == msg.run_id
    with pytest.raises(NotFound):
        runs.dead_letter(msg.run_id, RunStore(table, B))
    ok = build_message("workflows.echo", EchoPayload(message="ok"), A)
    execution.execute(ok, 1, store=store, jobs=JOBS, ctx=A)
    with pytest.raises(NotFound):
        runs.dead_letter(ok.run_id, store)


def _queue_down(message: JobMessage) -> None:
    raise ConnectionError("sqs is unreachable")


def test_a_replay_that_cannot_be_queued_leaves_the_run_failed_and_replayable(table: str) -> None:
    from ninefold_core.errors import ServiceUnavailable

    store = RunStore(table, A)
    msg = exhaust(store)
    with pytest.raises(ServiceUnavailable):
        runs.replay(msg.run_id, store, A, send=_queue_down)
    run = runs.get(msg.run_id, store)
    assert (run.status, run.dead_lettered, run.replays, run.max_attempts) == ("failed", True, 0, 3)
    assert [r.run_id for r in runs.dead_letters(store, limit=10, cursor=None).items] == [msg.run_id]
    sent: list[JobMessage] = []
    replayed, again = runs.replay(msg.run_id, store, A, send=sent.append)
    assert (again, replayed.status, replayed.replays, len(sent)) == (True, "queued", 1, 1)


def test_a_run_that_cannot_be_queued_is_not_recorded_and_its_key_is_free_again(table: str) -> None:
    from functions.workflows.models.runs import EnqueueRequest
    from ninefold_core.errors import ServiceUnavailable

    store = RunStore(table, A)
    request = EnqueueRequest(job="workflows.echo", payload={"message": "hi"}, idempotency_key="order-7")
    with pytest.raises(ServiceUnavailable):
        runs.submit(request, A, store=store, jobs=JOBS, send=_queue_down)
    assert runs.page(store, limit=10, cursor=None).items == []
    sent: list[JobMessage] = []
    run, created = runs.submit(request, A, store=store, jobs=JOBS, send=sent.append)
    assert (created, run.status, [m.run_id for m in sent]) == (True, "queued", [run.run_id])
