"""The run API's use cases: submit, read, cancel, replay, dead letters. The attempt itself (what
the worker does) is the core job runtime's (`ninefold_core.jobs.execution`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from functions.workflows.dal.runs import AdminRunStore
from functions.workflows.models.runs import (
    AdminRun,
    AdminRunPage,
    DeclaredJob,
    EnqueueRequest,
    JobList,
    Run,
    RunPage,
)
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, InvalidInput, NotFound
from ninefold_core.jobs import JobMessage, JobSpec, build_message
from ninefold_core.jobs.execution import iso, new_run
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext

# --- API use cases ----------------------------------------------------------------------------


def submit(
    request: EnqueueRequest,
    ctx: TenantContext,
    *,
    store: RunStore,
    jobs: Mapping[str, JobSpec[Any]],
    send: Callable[[JobMessage], None],
    now: float | None = None,
) -> tuple[Run, bool]:
    """Create the run (queued) and send its message; for a live idempotency key, the first run."""
    spec = jobs.get(request.job)
    if spec is None:
        raise InvalidInput(f"There is no job named {request.job!r}.")
    try:
        payload = spec.payload.model_validate(request.payload)
    except ValidationError as exc:
        raise InvalidInput(f"The payload does not fit job {request.job!r}: {exc.error_count()} problem(s).") from None
    message = build_message(
        spec,
        payload,
        ctx,
        idempotency_key=request.idempotency_key,
        idempotency_ttl=request.idempotency_ttl,
        now=now,
    )
    run, created = store.create(
        new_run(message, spec.retry.max_attempts), idempotency_ttl=request.idempotency_ttl, now=message.enqueued_at
    )
    if created:
        send(message)
    return Run.model_validate(run), created


def get(run_id: str, store: RunStore) -> Run:
    run = store.get(run_id)
    if run is None:
        raise NotFound("There is no such run.")
    return Run.model_validate(run)


def cancel(run_id: str, store: RunStore, now: float | None = None) -> Run:
    found = get(run_id, store)
    try:
        changed = store.transition(
            run_id,
            "queued",
            {"status": "cancelled", "finished_at": iso(time.time() if now is None else now)},
            job=found.job,
        )
    except ConditionFailed:
        raise Conflict("Only a queued run can be cancelled.") from None
    return Run.model_validate(changed)


def replay(
    run_id: str, store: RunStore, ctx: TenantContext, *, send: Callable[[JobMessage], None], now: float | None = None
) -> tuple[Run, bool]:
    """Put a failed run back in the queue under its own run id and idempotency key. Attempt numbers
    continue (a run that failed 3 attempts replays as attempt 4) with a fresh budget of the job's
    `max_attempts`; the attempt log keeps every attempt. (the run, True) when it was re-enqueued;
    a replayed run that has not failed again (a second replay) is returned as is, nothing is sent."""
    found = get(run_id, store)
    if found.replays and found.status != "failed":
        return found, False  # replayed already (queued, running or done): a second replay is a no-op
    at = time.time() if now is None else now
    try:
        changed = store.transition(
            run_id,
            "failed",
            {
                "status": "queued",
                "attempt_base": found.attempts,
                "max_attempts": found.attempts + found.max_attempts - found.attempt_base,
                "dead_lettered": False,
                "replays": found.replays + 1,
                "replayed_at": iso(at),
            },
            job=found.job,
        )
    except ConditionFailed:
        current = get(run_id, store)
        if current.replays and current.status != "failed":
            return current, False  # a concurrent replay won
        raise Conflict("Only a failed run can be replayed.") from None
    send(
        JobMessage(
            run_id=run_id,
            tenant_id=ctx.tenant_id,
            job=found.job,
            payload=found.payload,
            idempotency_key=found.idempotency_key,
            enqueued_by=found.enqueued_by or ctx.user_id,
            enqueued_at=at,
        )
    )
    return Run.model_validate(changed), True


def dead_letter(run_id: str, store: RunStore) -> Run:
    """One dead-lettered run of the tenant; a run that is not (or no longer) dead-lettered is a 404."""
    run = store.get(run_id)
    if run is None or not run.get("dead_lettered"):
        raise NotFound("There is no such dead letter.")
    return Run.model_validate(run)


def dead_letters(store: RunStore, *, limit: int, cursor: str | None) -> RunPage:
    """The tenant's runs that failed for good (their messages are in the shared DLQ); newest first,
    filtered within the page like `page`."""
    found = page(store, limit=limit, cursor=cursor, status="failed")
    return RunPage(items=[r for r in found.items if r.dead_lettered], cursor=found.cursor)


def page(
    store: RunStore, *, limit: int, cursor: str | None, status: str | None = None, job: str | None = None
) -> RunPage:
    """Newest first; `status` and `job` select one index partition each (dal/runs.py), so a page
    is full unless it is the last. A cursor only continues the filter it came from."""
    found = store.page(limit=limit, cursor=cursor, status=status, job=job)
    return RunPage(items=[Run.model_validate(i) for i in found.items], cursor=found.cursor)


def failed_across_tenants(store: AdminRunStore, *, limit: int, cursor: str | None) -> AdminRunPage:
    """Operators: the most recent failed runs of every tenant (the caller checked platform:operate)."""
    found = store.failed(limit=limit, cursor=cursor)
    return AdminRunPage(items=[AdminRun.model_validate(i) for i in found.items], cursor=found.cursor)


def declared(jobs: Mapping[str, JobSpec[Any]]) -> JobList:
    """What can be enqueued, from the declarations themselves (one source: `@job`)."""
    return JobList(
        jobs=[
            DeclaredJob(
                name=spec.name,
                description=spec.description or (spec.fn.__doc__ or "").strip().split("\n", 1)[0],
                queue=spec.queue,
                timeout=spec.timeout,
                max_attempts=spec.retry.max_attempts,
                concurrency=spec.concurrency,
                payload_schema=spec.payload.model_json_schema(),
            )
            for spec in sorted(jobs.values(), key=lambda s: s.name)
        ]
    )
