"""Per-tenant fairness (ADR 0013): lease slots, admission of a batch, deferral without an attempt."""

from __future__ import annotations

from typing import Any

import pytest

from functions.workflows.handlers import worker
from functions.workflows.jobs.sleep import SleepPayload
from ninefold_core import aws
from ninefold_core.jobs import JOBS, build_message
from ninefold_core.jobs import slots as fairness
from ninefold_core.jobs.slots import TENANT_SCOPE, SlotStore, job_scope
from ninefold_core.tenant import TenantContext
from tests.unit.workflows.test_worker import queue_url, received

A = TenantContext.system("tenant-aaaa", "workflows")
B = TenantContext.system("tenant-bbbb", "workflows")
__all__ = ["queue_url"]
NOW = 1_700_000_000.0
SCOPE = job_scope("workflows.sleep")


def test_a_scope_grants_at_most_its_limit_and_is_reentrant(table: str) -> None:
    slots = SlotStore(table, A)
    assert slots.acquire(SCOPE, "r1", limit=2, expires_at=NOW + 60, now=NOW)
    assert slots.acquire(SCOPE, "r2", limit=2, expires_at=NOW + 60, now=NOW)
    assert not slots.acquire(SCOPE, "r3", limit=2, expires_at=NOW + 60, now=NOW)
    assert slots.acquire(SCOPE, "r1", limit=2, expires_at=NOW + 90, now=NOW)  # a holder keeps its slot
    assert slots.leases(SCOPE, NOW) == {"r1": NOW + 90, "r2": NOW + 60}


def test_a_released_slot_is_free_again(table: str) -> None:
    slots = SlotStore(table, A)
    for holder in ("r1", "r2"):
        slots.acquire(SCOPE, holder, limit=2, expires_at=NOW + 60, now=NOW)
    slots.release(SCOPE, "r1", now=NOW)
    assert slots.acquire(SCOPE, "r3", limit=2, expires_at=NOW + 60, now=NOW)


def test_a_crashed_holders_lease_expires_on_its_own(table: str) -> None:
    slots = SlotStore(table, A)
    for holder in ("r1", "r2"):
        slots.acquire(SCOPE, holder, limit=2, expires_at=NOW + 60, now=NOW)
    assert not slots.acquire(SCOPE, "r3", limit=2, expires_at=NOW + 120, now=NOW + 59)
    assert slots.acquire(SCOPE, "r3", limit=2, expires_at=NOW + 120, now=NOW + 61)
    assert slots.leases(SCOPE, NOW + 61) == {"r3": NOW + 120}


def test_slots_are_per_tenant(table: str) -> None:
    a, b = SlotStore(table, A), SlotStore(table, B)
    for holder in ("r1", "r2"):
        assert a.acquire(SCOPE, holder, limit=2, expires_at=NOW + 60, now=NOW)
    assert b.acquire(SCOPE, "r9", limit=2, expires_at=NOW + 60, now=NOW)


def test_admission_needs_a_job_slot_and_a_tenant_slot(table: str) -> None:
    slots = SlotStore(table, A)
    spec = JOBS["workflows.sleep"]
    messages = [build_message(spec, SleepPayload(), A) for _ in range(3)]
    decisions = [
        fairness.admit(m, spec, slots, tenant_cap=10, lease_until=NOW + 60, now=NOW).admitted for m in messages
    ]
    assert decisions == [True, True, False]  # workflows.sleep: concurrency=2
    echo = build_message("workflows.echo", {"message": "x"}, A)
    assert not fairness.admit(echo, JOBS["workflows.echo"], slots, tenant_cap=2, lease_until=NOW + 60, now=NOW).admitted
    assert slots.leases(job_scope("workflows.echo"), NOW) == {}  # its job slot was given back
    assert set(slots.leases(TENANT_SCOPE, NOW)) == {messages[0].run_id, messages[1].run_id}


def test_a_message_of_an_unknown_job_holds_nothing(table: str) -> None:
    message = build_message("workflows.nope", {}, A)
    assert fairness.admit(message, None, SlotStore(table, A), tenant_cap=1, lease_until=NOW, now=NOW).admitted


@pytest.mark.parametrize("rng", [0.0, 0.5, 1.0])
def test_the_deferral_delay_is_short_and_bounded(rng: float) -> None:
    assert fairness.DEFER_MIN_SECONDS <= fairness.defer_delay(lambda: rng) <= fairness.DEFER_MAX_SECONDS


def test_a_batch_runs_a_tenant_up_to_its_limit_and_defers_the_rest_without_an_attempt(
    queue_url: str, lambda_context: Any
) -> None:
    from ninefold_core.jobs.store import RunStore

    noisy = [build_message("workflows.sleep", SleepPayload(), A) for _ in range(4)]
    quiet = build_message("workflows.sleep", SleepPayload(), B)
    records = [received(queue_url, m.model_dump_json()) for m in [*noisy, quiet]]

    response = worker.handler({"Records": records}, lambda_context)

    assert response == {"batchItemFailures": []}  # deferred records are deleted: a copy was sent
    statuses = [(RunStore("ninefold-test-table", A).get(m.run_id) or {}).get("status") for m in noisy]
    assert statuses == ["succeeded", "succeeded", None, None]  # deferred before any run record
    assert (RunStore("ninefold-test-table", B).get(quiet.run_id) or {})["status"] == "succeeded"
    copies = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert copies["ApproximateNumberOfMessagesDelayed"] == "2"
    # Every slot was given back after its run.
    assert SlotStore("ninefold-test-table", A).leases(TENANT_SCOPE, 0) == {}


def test_when_the_deferred_copies_cannot_be_sent_they_come_back_later_and_no_slot_is_kept(
    queue_url: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ninefold_core.jobs.store import RunStore

    sqs = aws.client("sqs")

    def throttled(**kwargs: Any) -> Any:
        raise RuntimeError("throttled")

    monkeypatch.setattr(sqs, "send_message_batch", throttled)
    noisy = [build_message("workflows.sleep", SleepPayload(), A) for _ in range(3)]
    records = [received(queue_url, m.model_dump_json()) for m in noisy]

    response = worker.handler({"Records": records}, lambda_context)

    # The two admitted ran; the third is a batch item failure (visibility = the deferral delay).
    assert response == {"batchItemFailures": [{"itemIdentifier": records[2]["messageId"]}]}
    statuses = [(RunStore("ninefold-test-table", A).get(m.run_id) or {}).get("status") for m in noisy]
    assert statuses == ["succeeded", "succeeded", None]
    assert SlotStore("ninefold-test-table", A).leases(TENANT_SCOPE, 0) == {}


def test_a_running_run_met_by_another_message_is_a_duplicate_and_by_its_own_a_crash(table: str) -> None:
    from functions.workflows.logic import runs
    from ninefold_core.jobs import execution
    from ninefold_core.jobs.store import RunStore

    store = RunStore(table, A)
    message = build_message("workflows.sleep", SleepPayload(), A)
    store.create(execution.new_run(message, 3), idempotency_ttl=60)
    store.transition(
        message.run_id, "queued", {"status": "running", "attempts": 1, "running_message": "m1"}, job=message.job
    )

    duplicate = execution.execute(message, 1, store=store, jobs=JOBS, ctx=A, delivery="m2")
    assert duplicate.done  # the copy is deleted; m1 comes back if its worker died
    assert (store.get(message.run_id) or {})["status"] == "running"

    redelivered = execution.execute(message, 2, store=store, jobs=JOBS, ctx=A, delivery="m1")
    assert redelivered.done
    run = runs.get(message.run_id, store)
    assert (run.status, run.attempts) == ("succeeded", 2)  # the crashed attempt counts


def test_a_declaration_carries_its_per_tenant_concurrency() -> None:
    from ninefold_core.jobs import DEFAULT_CONCURRENCY, job

    assert JOBS["workflows.sleep"].concurrency == 2
    assert JOBS["workflows.echo"].concurrency == DEFAULT_CONCURRENCY
    with pytest.raises(ValueError, match="concurrency"):
        job(name="workflows.never", payload=SleepPayload, concurrency=0)
