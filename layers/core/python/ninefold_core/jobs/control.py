"""Changing a run from outside the worker: cancel a waiting run, replay a failed one (ADR 0012).

The owner of a run changes it: workflows' API for workflows' own runs, and for every other
system's runs that system's job-commands consumer (`ninefold_core.jobs.commands`), on the command
events workflows' API publishes (ADR 0014). Both call these functions on the owner's `RunStore`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from ninefold_core import aws, queues
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, NotFound, ServiceUnavailable
from ninefold_core.jobs import WAITING, JobMessage
from ninefold_core.jobs.execution import iso
from ninefold_core.jobs.store import RunStore
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext


def _get(run_id: str, store: RunStore) -> dict[str, Any]:
    run = store.get(run_id)
    if run is None:
        raise NotFound("There is no such run.")
    return run


def cancel(run_id: str, store: RunStore, now: float | None = None) -> dict[str, Any]:
    """queued or retrying -> cancelled (the worker then skips the run's message); Conflict otherwise."""
    found = _get(run_id, store)
    status = str(found["status"])
    try:
        if status not in WAITING:
            raise ConditionFailed(status)
        return store.transition(
            run_id,
            status,
            {"status": "cancelled", "finished_at": iso(time.time() if now is None else now)},
            job=str(found["job"]),
        )
    except ConditionFailed:
        raise Conflict("Only a run waiting for its next attempt (queued or retrying) can be cancelled.") from None


def replay(
    run_id: str, store: RunStore, ctx: TenantContext, *, send: Callable[[JobMessage], None], now: float | None = None
) -> tuple[dict[str, Any], bool]:
    """Put a failed run back in the queue under its own run id and idempotency key. Attempt numbers
    continue (a run that failed 3 attempts replays as attempt 4) with a fresh budget of the job's
    `max_attempts`; the attempt log keeps every attempt. (the run, True) when it was re-enqueued;
    a replayed run that has not failed again (a second replay) is returned as is, nothing is sent."""
    found = _get(run_id, store)
    replays, status = int(found.get("replays", 0)), found["status"]
    if replays and status != "failed":
        return found, False  # replayed already (queued, running or done): a second replay is a no-op
    attempts, base = int(found.get("attempts", 0)), int(found.get("attempt_base", 0))
    at = time.time() if now is None else now
    try:
        changed = store.transition(
            run_id,
            "failed",
            {
                "status": "queued",
                "attempt_base": attempts,
                "max_attempts": attempts + int(found["max_attempts"]) - base,
                "dead_lettered": False,
                "replays": replays + 1,
                "replayed_at": iso(at),
            },
            job=str(found["job"]),
        )
    except ConditionFailed:
        current = _get(run_id, store)
        if int(current.get("replays", 0)) and current["status"] != "failed":
            return current, False  # a concurrent replay won
        raise Conflict("Only a failed run can be replayed.") from None
    message = JobMessage(
        run_id=run_id,
        tenant_id=ctx.tenant_id,
        job=str(found["job"]),
        payload=found.get("payload") or {},
        idempotency_key=found.get("idempotency_key"),
        enqueued_by=found.get("enqueued_by") or ctx.user_id,
        enqueued_at=at,
    )
    try:
        send(message)
    except Exception as exc:
        _unreplay(store, found)
        logger.warning("replay could not be queued; the run is failed again", exc_info=True)
        raise ServiceUnavailable("The run could not be queued again; it is still failed. Try again.") from exc
    return changed, True


def _unreplay(store: RunStore, found: dict[str, Any]) -> None:
    """Undo a replay whose message was never sent: back to failed (and dead-lettered) as it was,
    so it can be replayed again. Unless a worker has the run already (the send got through)."""
    with contextlib.suppress(ConditionFailed):
        store.transition(
            str(found["run_id"]),
            "queued",
            {
                "status": "failed",
                "attempt_base": int(found.get("attempt_base", 0)),
                "max_attempts": int(found["max_attempts"]),
                "dead_lettered": bool(found.get("dead_lettered")),
                "replays": int(found.get("replays", 0)),
            }
            # (a value of None cannot be written: what the run did not have, it keeps from the replay)
            | {k: found[k] for k in ("finished_at", "replayed_at") if found.get(k) is not None},
            job=str(found["job"]),
        )


def remove_dead_letter(dlq_url: str, run_id: str, tenant_id: str) -> None:
    """Take a replayed run's old message out of the DLQ (best effort; a missed one is folded into
    the run by the worker if it is ever redriven). The DLQ is shared by the system's tenants: only
    this tenant's message for this run matches."""

    def mine(body: str) -> bool:
        try:
            message = JobMessage.model_validate_json(body)
        except ValueError:
            return False
        return message.run_id == run_id and message.tenant_id == tenant_id

    queues.remove_matching(aws.client("sqs"), dlq_url=dlq_url, matches=mine)
