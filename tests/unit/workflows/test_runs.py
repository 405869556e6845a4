"""Run transitions, retries, idempotency and cancel against the workflows table (moto)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from functions.workflows.jobs.echo import EchoPayload
from functions.workflows.logic import runs
from functions.workflows.models.runs import EnqueueRequest
from ninefold_core.errors import Conflict, InvalidInput, NotFound
from ninefold_core.jobs import JOBS, JobMessage, build_message, execution
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext

A = TenantContext.system("tenant-aaaa", "workflows")
B = TenantContext.system("tenant-bbbb", "workflows")


def clock() -> Any:
    ticks = itertools.count(1_700_000_000)
    return lambda: float(next(ticks))


def message(ctx: TenantContext = A, fail_times: int = 0, **kwargs: Any) -> JobMessage:
    return build_message("workflows.echo", EchoPayload(message="hi", fail_times=fail_times), ctx, **kwargs)


def run_attempt(store: RunStore, msg: JobMessage, receive_count: int) -> execution.Outcome:
    return execution.execute(msg, receive_count, store=store, jobs=JOBS, ctx=A, now=clock(), rng=lambda: 0.5)


def test_a_run_succeeds_on_its_first_attempt(table: str) -> None:
    store = RunStore(table, A)
    msg = message()
    assert run_attempt(store, msg, 1).done
    run = runs.get(msg.run_id, store)
    assert run.status == "succeeded"
    assert run.attempts == 1
    assert run.result == {"echo": "hi", "attempt": 1}
    assert run.started_at
    assert run.finished_at
    assert len(run.attempt_log) == 1


def test_a_failing_attempt_backs_off_with_jitter_then_succeeds(table: str) -> None:
    store = RunStore(table, A)
    msg = message(fail_times=2)
    first = run_attempt(store, msg, 1)
    assert (first.done, first.visibility) == (False, 1)  # 0.5 * min(60, 2 * 2**0)
    assert runs.get(msg.run_id, store).status == "retrying"
    second = run_attempt(store, msg, 2)
    assert (second.done, second.visibility) == (False, 2)  # 0.5 * 4
    assert run_attempt(store, msg, 3).done
    run = runs.get(msg.run_id, store)
    assert (run.status, run.attempts) == ("succeeded", 3)
    assert [a.error is not None for a in run.attempt_log] == [True, True, False]


def test_the_last_failed_attempt_fails_the_run_and_leaves_the_message_for_the_dlq(table: str) -> None:
    store = RunStore(table, A)
    msg = message(fail_times=5)
    for attempt in (1, 2):
        assert not run_attempt(store, msg, attempt).done
    last = run_attempt(store, msg, 3)
    assert (last.done, last.visibility) == (False, 0)
    run = runs.get(msg.run_id, store)
    assert run.status == "failed"
    assert run.last_error is not None
    assert "attempt 3 failed on purpose" in run.last_error
    # Redelivered after the last attempt: still not deleted, so SQS dead-letters it.
    assert not run_attempt(store, msg, 4).done
    assert runs.get(msg.run_id, store).attempts == 3


def test_a_poison_payload_fails_the_run_without_calling_the_job(table: str) -> None:
    store = RunStore(table, A)
    msg = build_message("workflows.echo", {"message": 42}, A)
    outcome = run_attempt(store, msg, 1)
    assert not outcome.done
    run = runs.get(msg.run_id, store)
    assert run.status == "failed"
    assert run.attempts == 0
    assert run.last_error is not None
    assert run.last_error.startswith("invalid payload")


def test_an_unknown_job_fails_its_run(table: str) -> None:
    store = RunStore(table, A)
    msg = build_message("workflows.nope", {}, A)
    assert not run_attempt(store, msg, 1).done
    assert runs.get(msg.run_id, store).status == "failed"


def test_the_same_idempotency_key_within_its_ttl_runs_once(table: str) -> None:
    store = RunStore(table, A)
    first, second = message(idempotency_key="order-1"), message(idempotency_key="order-1")
    assert run_attempt(store, first, 1).done
    assert run_attempt(store, second, 1).done
    assert runs.get(first.run_id, store).status == "succeeded"
    with pytest.raises(NotFound):
        runs.get(second.run_id, store)


def test_an_expired_idempotency_key_starts_a_new_run(table: str) -> None:
    store = RunStore(table, A)
    first = message(idempotency_key="order-2", idempotency_ttl=60, now=1_000.0)
    later = message(idempotency_key="order-2", idempotency_ttl=60, now=2_000.0)
    run, created = store.create(execution.new_run(first, 3), idempotency_ttl=60, now=1_000.0)
    assert created
    run, created = store.create(execution.new_run(later, 3), idempotency_ttl=60, now=2_000.0)
    assert created
    assert run["run_id"] == later.run_id


def test_submit_returns_the_first_run_for_a_duplicate_key_and_sends_once(table: str) -> None:
    store, sent = RunStore(table, A), []
    request = EnqueueRequest(job="workflows.echo", payload={"message": "x"}, idempotency_key="k1")
    first, created = runs.submit(request, A, store=store, jobs=JOBS, send=sent.append)
    again, created_again = runs.submit(request, A, store=store, jobs=JOBS, send=sent.append)
    assert (created, created_again) == (True, False)
    assert again.run_id == first.run_id
    assert len(sent) == 1


def test_submit_refuses_undeclared_jobs_and_bad_payloads(table: str) -> None:
    store = RunStore(table, A)
    for request in (
        EnqueueRequest(job="workflows.nope", payload={}),
        EnqueueRequest(job="workflows.echo", payload={"message": None}),
    ):
        with pytest.raises(InvalidInput):
            runs.submit(request, A, store=store, jobs=JOBS, send=lambda m: None)


def test_only_a_queued_run_can_be_cancelled_and_the_worker_skips_it(table: str) -> None:
    store = RunStore(table, A)
    run, _ = runs.submit(
        EnqueueRequest(job="workflows.echo", payload={"message": "x"}),
        A,
        store=store,
        jobs=JOBS,
        send=lambda m: None,
    )
    assert runs.cancel(run.run_id, store).status == "cancelled"
    with pytest.raises(Conflict):
        runs.cancel(run.run_id, store)
    msg = message(run_id=run.run_id)
    assert run_attempt(store, msg, 1).done
    assert runs.get(run.run_id, store).status == "cancelled"


def test_another_tenants_run_is_not_found(table: str) -> None:
    msg = message()
    run_attempt(RunStore(table, A), msg, 1)
    with pytest.raises(NotFound):
        runs.get(msg.run_id, RunStore(table, B))
    assert runs.page(RunStore(table, B), limit=10, cursor=None).items == []
    assert [r.run_id for r in runs.page(RunStore(table, A), limit=10, cursor=None).items] == [msg.run_id]


def test_listing_filters_by_status_and_job(table: str) -> None:
    store = RunStore(table, A)
    ok, bad = message(), message(fail_times=9)
    run_attempt(store, ok, 1)
    run_attempt(store, bad, 1)
    listed = runs.page(store, limit=10, cursor=None, status="succeeded")
    assert [r.run_id for r in listed.items] == [ok.run_id]
    assert runs.page(store, limit=10, cursor=None, job="other").items == []


def test_a_retrying_run_waits_in_its_own_status_and_can_be_cancelled_before_its_next_attempt(table: str) -> None:
    store = RunStore(table, A)
    msg = message(fail_times=5)
    assert not run_attempt(store, msg, 1).done
    waiting = runs.get(msg.run_id, store)
    assert (waiting.status, waiting.attempts, waiting.next_attempt_at is not None) == ("retrying", 1, True)
    assert [r.run_id for r in runs.page(store, limit=10, cursor=None, status="retrying").items] == [msg.run_id]
    assert runs.cancel(msg.run_id, store).status == "cancelled"
    assert run_attempt(store, msg, 2).done  # the backoff ends: the worker skips the cancelled run
    assert (runs.get(msg.run_id, store).status, runs.get(msg.run_id, store).attempts) == ("cancelled", 1)
