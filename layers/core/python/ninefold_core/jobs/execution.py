"""One attempt of a job run: the lifecycle the worker drives. Pure Python over `RunStore`.

queued -> running -> succeeded
                  -> retrying (retryable failure, attempts left; SQS redelivers after the backoff)
                  -> failed (last attempt, or the payload/job is invalid)
retrying -> running (the next attempt) ...
queued | retrying -> cancelled (API); the worker skips cancelled runs.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ninefold_core.dynamo import ConditionFailed
from ninefold_core.jobs import TERMINAL, JobMessage, JobSpec, RunInfo
from ninefold_core.jobs.store import RunStore
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

MAX_ERROR_CHARS = 2000


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Outcome:
    """What the worker does with the message: delete it, or leave it for SQS after `visibility` s."""

    done: bool
    visibility: int = 0
    reason: str = ""
    # What this delivery did to the run, for the worker's metrics: "succeeded", "retrying" (an
    # attempt failed, more to come), "failed" (failed for good); "" when no attempt ended here.
    ended: str = ""


DONE = Outcome(done=True)


def new_run(message: JobMessage, max_attempts: int) -> dict[str, Any]:
    return {
        "run_id": message.run_id,
        "job": message.job,
        "status": "queued",
        "payload": message.payload,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": iso(message.enqueued_at),
        "idempotency_key": message.idempotency_key,
        "enqueued_by": message.enqueued_by,
        "attempt_log": [],
    }


def _error(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[:MAX_ERROR_CHARS]


def execute(
    message: JobMessage,
    receive_count: int,
    *,
    store: RunStore,
    jobs: Mapping[str, JobSpec[Any]],
    ctx: TenantContext,
    now: Callable[[], float] = time.time,
    rng: Callable[[], float] = random.random,
    delivery: str | None = None,
) -> Outcome:
    """Run the next attempt of the message's run (the run's `attempts` + 1; `receive_count` is the
    message's SQS receive count, only logged); what to do with the message.

    `delivery`: the SQS message id. A run found `running` by the message that started the attempt
    is a crash (SQS redelivers it only after the visibility timeout, which covers a whole batch);
    found by another message (a deferral copy, a replay's), it is a duplicate: that message is
    deleted, the holder's own message comes back if its worker dies."""
    spec = jobs.get(message.job)
    job = message.job
    run, _ = store.create(
        new_run(message, spec.retry.max_attempts if spec else 1), idempotency_ttl=message.idempotency_ttl, now=now()
    )
    if run["run_id"] != message.run_id:
        logger.info("duplicate idempotency key; folded into the first run", extra={"first_run": run["run_id"]})
        return DONE
    status = run["status"]
    if status == "failed":
        # Already failed for good: let SQS move the message to the DLQ (maxReceiveCount).
        return Outcome(done=False, visibility=0, reason="failed run")
    if status in TERMINAL:
        return DONE
    if status == "running" and not _recovered(run, store, delivery, job):
        return DONE
    # Waiting for its next attempt: `queued` (never run, recovered from a crash, replayed) or
    # `retrying` (an attempt failed, the backoff runs). Every transition below is conditional on it.
    waiting = "queued" if status == "running" else status
    if spec is None:
        return _fail(store, message.run_id, waiting, f"unknown job {message.job!r}", now(), job=job)
    try:
        payload = spec.payload.model_validate(message.payload)
    except ValidationError as exc:
        return _fail(store, message.run_id, waiting, f"invalid payload: {exc}"[:MAX_ERROR_CHARS], now(), job=job)

    # Attempts are counted in the run, not by SQS receives (ADR 0013): a receive that ran nothing
    # (deferred, its batch crashed before reaching it, a duplicate) is no attempt, while an attempt
    # that crashed mid-way was recorded when it started. A replayed run keeps numbering its
    # attempts; its retry budget starts again after `attempt_base`.
    base = int(run.get("attempt_base", 0))
    attempt = int(run.get("attempts", 0)) + 1
    if receive_count > attempt - base:
        logger.info("redelivered without an attempt", extra={"receive_count": receive_count, "attempt": attempt})
    started = now()
    log = list(run.get("attempt_log") or [])
    try:
        store.transition(
            message.run_id,
            waiting,
            {
                "status": "running",
                "attempts": attempt,
                "started_at": run.get("started_at") or iso(started),
            }
            | ({"running_message": delivery} if delivery else {}),
            job=job,
        )
    except ConditionFailed:
        return DONE  # cancelled meanwhile, or a concurrent delivery took it
    try:
        result = spec.fn(
            payload,
            RunInfo(
                run_id=message.run_id,
                attempt=attempt,
                ctx=ctx,
                table_name=store.repo.table_name,
                scheduled_time=message.scheduled_time,
            ),
        )
    except Exception as exc:  # a job's failure is data, not a crash of the worker
        error = _error(exc)
        log.append({"attempt": attempt, "started_at": iso(started), "finished_at": iso(now()), "error": error})
        if spec.retry.retries_after(attempt - base):
            delay = spec.retry.delay(attempt - base, rng)
            store.transition(
                message.run_id,
                "running",
                {
                    "status": "retrying",
                    "last_error": error,
                    "attempt_log": log,
                    "next_attempt_at": iso(now() + delay),
                },
                job=job,
            )
            logger.warning("job attempt failed; retrying", extra={"attempt": attempt, "delay": delay})
            return Outcome(done=False, visibility=delay, reason=error, ended="retrying")
        failed = _fail(store, message.run_id, "running", error, now(), log=log, job=job)
        return Outcome(done=False, visibility=0, reason=error, ended=failed.ended)
    finished = now()
    log.append({"attempt": attempt, "started_at": iso(started), "finished_at": iso(finished)})
    store.transition(
        message.run_id,
        "running",
        {"status": "succeeded", "finished_at": iso(finished), "result": result, "attempt_log": log},
        job=job,
    )
    return Outcome(done=True, ended="succeeded")


def _recovered(run: dict[str, Any], store: RunStore, delivery: str | None, job: str) -> bool:
    """A `running` run met again: True when it was put back to `queued` to run the next attempt
    (the message that started the attempt is back, so that worker crashed: the attempt counts);
    False when this message is a duplicate (another message holds the run) or another delivery
    recovered it first -- the message is then deleted."""
    holder = run.get("running_message")
    if delivery is not None and holder is not None and holder != delivery:
        logger.info("duplicate message of a running run; dropped", extra={"holder": holder})
        return False
    try:
        store.transition(str(run["run_id"]), "running", {"status": "queued"}, job=job)
    except ConditionFailed:
        return False
    return True


def _fail(
    store: RunStore, run_id: str, expected: str, error: str, at: float, *, job: str, log: list[Any] | None = None
) -> Outcome:
    changes: dict[str, Any] = {"status": "failed", "finished_at": iso(at), "last_error": error, "dead_lettered": True}
    if log is not None:
        changes["attempt_log"] = log
    try:
        store.transition(run_id, expected, changes, job=job)
    except ConditionFailed:
        return DONE
    logger.error("job run failed", extra={"run_id": run_id, "error": error})
    # Not deleted: SQS moves it to the DLQ after maxReceiveCount receives (runbooks/jobs.md).
    return Outcome(done=False, visibility=0, reason=error, ended="failed")
