"""The run API's use cases: submit, read, cancel, replay, dead letters. The attempt itself (what
the worker does) is the core job runtime's (`ninefold_core.jobs.execution`)."""

from __future__ import annotations

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
from ninefold_core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from ninefold_core.events import EventData, new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.workflows import JobRunCancelRequested, JobRunReplayRequested
from ninefold_core.jobs import WAITING, JobMessage, JobSpec, build_message, control
from ninefold_core.jobs.execution import new_run
from ninefold_core.jobs.store import RunStore
from ninefold_core.observability import logger
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
        try:
            send(message)
        except Exception as exc:
            # Never leave a queued run that no message will ever run (a retry with the same key
            # would get it back and wait forever): take the run and its key back, then say so.
            store.discard_unsent(run)
            logger.warning("run could not be queued; discarded", exc_info=True)
            raise ServiceUnavailable("The job could not be queued, and nothing was recorded. Try again.") from exc
    return Run.model_validate(run), created


def get(run_id: str, store: RunStore) -> Run:
    run = store.get(run_id)
    if run is None:
        raise NotFound("There is no such run.")
    return Run.model_validate(run)


def cancel(run_id: str, store: RunStore, now: float | None = None) -> Run:
    return Run.model_validate(control.cancel(run_id, store, now))


def replay(
    run_id: str, store: RunStore, ctx: TenantContext, *, send: Callable[[JobMessage], None], now: float | None = None
) -> tuple[Run, bool]:
    run, sent = control.replay(run_id, store, ctx, send=send, now=now)
    return Run.model_validate(run), sent


def request_cancel(run: Run, store: RunStore, ctx: TenantContext) -> Run:
    """Another system's waiting run: ask its owner to cancel it (`job_run.cancel_requested`, ADR
    0014). The view changes when the owner's `job_run.changed` arrives."""
    if run.status not in WAITING:
        raise Conflict("Only a run waiting for its next attempt (queued or retrying) can be cancelled.")
    _publish(
        store, ctx, JobRunCancelRequested(system=run.system, run_id=run.run_id, job=run.job, requested_by=ctx.user_id)
    )
    return run


def request_replay(run: Run, store: RunStore, ctx: TenantContext) -> Run:
    """Another system's failed run: ask its owner to replay it (`job_run.replay_requested`)."""
    if run.status != "failed":
        raise Conflict("Only a failed run can be replayed.")
    _publish(
        store, ctx, JobRunReplayRequested(system=run.system, run_id=run.run_id, job=run.job, requested_by=ctx.user_id)
    )
    return run


def _publish(store: RunStore, ctx: TenantContext, command: EventData) -> None:
    store.repo.transact([outbox_op(store.repo, new_envelope(command, ctx))])


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
